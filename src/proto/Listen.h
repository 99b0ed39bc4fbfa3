#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/Error.h"

namespace ferry::proto {

/// Payload of Listen (client -> server, stream 0): the client asks the server to listen for one
/// of its reverse forwards (-R). Wire: u32 request id, then "[BIND:]PORT" as printable ASCII.
struct ListenRequest {
  uint32_t requestId = 0;
  std::string bind;
  /// Longest bind text accepted ("[" + 39-character IPv6 + "]:65535" fits many times over).
  static constexpr size_t kMaxText = 128;
};

/// Status byte of ListenResult.
enum class ListenStatus : uint8_t { Ok = 0, NotAllowed = 1, AddressInUse = 2, Other = 3 };

/// Payload of ListenResult (server -> client, stream 0): the answer to one Listen. Wire: u32
/// request id, u8 status, then printable ASCII: the bound address when Ok, else the reason.
struct ListenResult {
  uint32_t requestId = 0;
  ListenStatus status = ListenStatus::Ok;
  std::string text;
  /// Longest text accepted; longer reasons are cut to it when encoded.
  static constexpr size_t kMaxText = 512;
};

const char* listenStatusName(ListenStatus status);

std::vector<uint8_t> encodeListen(const ListenRequest& request);
/// Errors (code EPROTO) say which rule the payload broke: too short, empty or over-long text,
/// bytes that are not printable ASCII.
io::Result<ListenRequest> decodeListen(std::span<const uint8_t> payload);

std::vector<uint8_t> encodeListenResult(const ListenResult& result);
/// As decodeListen, plus an unknown status.
io::Result<ListenResult> decodeListenResult(std::span<const uint8_t> payload);

}  // namespace ferry::proto
