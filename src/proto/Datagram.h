#pragma once

#include <cstdint>
#include <span>

namespace ferry::proto {

/// Why a datagram flow ended: the optional u8 payload of DatagramClose (docs/protocol.md).
enum class FlowCloseReason : uint8_t {
  Unspecified = 0,  // also what an empty payload or an unknown value decodes to
  IdleTimeout = 1,  // nothing crossed the flow for the sender's --udp-timeout
  Refused = 2,      // the server does not allow the destination, or the Open was invalid
  Limit = 3,        // the sender is at its flow limit
  Error = 4,        // a socket error on the sender's side
};

/// The DatagramClose payload for `reason` (one byte).
inline uint8_t encodeFlowClose(FlowCloseReason reason) {
  return static_cast<uint8_t>(reason);
}

/// Decodes a DatagramClose payload; bytes after the first are ignored (room for later fields).
FlowCloseReason decodeFlowClose(std::span<const uint8_t> payload);

const char* flowCloseReasonName(FlowCloseReason reason);

/// The largest datagram a flow carries: the largest UDP payload over IPv6 (65,535 - 8).
constexpr uint32_t kMaxDatagram = 65527;

}  // namespace ferry::proto
