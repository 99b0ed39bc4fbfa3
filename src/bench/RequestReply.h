#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "bench/SizeList.h"

namespace ferry::bench {

/// The wire format of the request/response benchmark (`ferry bench rr` against `ferry bench
/// rr-server`), shaped like an HTTP keep-alive exchange: the client sends a small request of
/// kRequestSize bytes whose first 4 bytes name, big-endian, the size of the reply it wants
/// (1..kMaxMessageSize); the rest is filler. The server answers with exactly that many bytes,
/// byte i of every reply being replyPattern()[i % replyPattern().size()], so the client can
/// check each reply without the server copying per request.
constexpr size_t kRequestSize = 64;
using Request = std::array<uint8_t, kRequestSize>;

/// A request for `replySize` bytes.
Request encodeRequest(uint32_t replySize);
/// The reply size a request names, or nullopt when it is 0 or above kMaxMessageSize.
std::optional<size_t> requestedReplySize(std::span<const uint8_t, kRequestSize> request);

/// The bytes every reply repeats (64 KiB, a fixed pseudo-random pattern).
std::span<const uint8_t> replyPattern();
/// Whether `received` are the reply bytes from offset `offset` on.
bool isReplyData(size_t offset, std::span<const uint8_t> received);

/// The reply size of request number `index`: spread evenly over `range`, deterministic so that
/// runs are comparable.
size_t pickReplySize(SizeRange range, uint64_t index);

}  // namespace ferry::bench
