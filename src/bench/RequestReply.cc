#include "bench/RequestReply.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "bench/Pattern.h"

namespace ferry::bench {

Request encodeRequest(uint32_t replySize) {
  Request request{};
  fillPattern(request, patternSeed(kRequestSize, replySize));
  for (int i = 0; i < 4; ++i) {
    request[i] = static_cast<uint8_t>(replySize >> (24 - 8 * i));
  }
  return request;
}

std::optional<size_t> requestedReplySize(std::span<const uint8_t, kRequestSize> request) {
  size_t size = 0;
  for (int i = 0; i < 4; ++i) {
    size = size << 8 | request[i];
  }
  if (size == 0 || size > kMaxMessageSize) {
    return std::nullopt;
  }
  return size;
}

std::span<const uint8_t> replyPattern() {
  static const std::vector<uint8_t> pattern = [] {
    std::vector<uint8_t> bytes(64 * 1024);
    fillPattern(bytes, patternSeed(bytes.size(), 0));
    return bytes;
  }();
  return pattern;
}

bool isReplyData(size_t offset, std::span<const uint8_t> received) {
  std::span<const uint8_t> pattern = replyPattern();
  while (!received.empty()) {
    size_t at = offset % pattern.size();
    size_t n = std::min(received.size(), pattern.size() - at);
    if (std::memcmp(received.data(), pattern.data() + at, n) != 0) {
      return false;
    }
    received = received.subspan(n);
    offset += n;
  }
  return true;
}

size_t pickReplySize(SizeRange range, uint64_t index) {
  // Fibonacci hashing: consecutive indices land far apart, and the top bits are well mixed.
  uint64_t mixed = (index + 1) * 0x9e3779b97f4a7c15ULL;
  return range.min + static_cast<size_t>((mixed >> 16) % (range.max - range.min + 1));
}

}  // namespace ferry::bench
