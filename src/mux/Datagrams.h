#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "io/Clock.h"
#include "proto/Datagram.h"

namespace ferry::mux {

/// Receives a session's datagram frames (UDP flows). A flow is opened by the client side with an
/// odd id, carries datagrams both ways outside stream credit, and ends with DatagramClose from
/// either side. The session checks flow ids of DatagramOpen; the handler keeps the flows (their
/// sockets, idle timers and limits). All calls happen on the loop thread.
class DatagramHandler {
 public:
  virtual ~DatagramHandler() = default;
  /// Server role: the peer opened `flow` to `target`. The handler answers with
  /// Session::closeFlow when it refuses.
  virtual void onFlowOpen(uint32_t flow, std::string_view target) = 0;
  /// One datagram of `flow`; the payload is valid only during the call. May name a flow the
  /// handler no longer knows (a close crossed it): drop it.
  virtual void onDatagram(uint32_t flow, std::span<const uint8_t> payload) = 0;
  /// The peer ended `flow`.
  virtual void onFlowClosed(uint32_t flow, proto::FlowCloseReason reason) = 0;
  /// Called from the session's timer every half second or so: expire idle flows here.
  virtual void onDatagramSweep(io::TimePoint now) = 0;
};

}  // namespace ferry::mux
