#include "bench/Pattern.h"

#include <algorithm>
#include <cstring>

namespace ferry::bench {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

void fillPattern(std::span<uint8_t> out, uint64_t seed) {
  uint64_t state = seed;
  size_t offset = 0;
  for (; offset + 8 <= out.size(); offset += 8) {
    uint64_t word = splitmix64(state);
    std::memcpy(out.data() + offset, &word, 8);
  }
  if (offset < out.size()) {
    uint64_t word = splitmix64(state);
    std::memcpy(out.data() + offset, &word, out.size() - offset);
  }
}

uint64_t patternSeed(size_t size, size_t round) {
  return (static_cast<uint64_t>(size) << 32) ^ static_cast<uint64_t>(round) ^
         0x6665727279ULL;  // "ferry"
}

std::optional<size_t> firstMismatch(std::span<const uint8_t> expected,
                                    std::span<const uint8_t> actual) {
  size_t common = std::min(expected.size(), actual.size());
  if (common > 0 && std::memcmp(expected.data(), actual.data(), common) != 0) {
    auto differs = std::mismatch(expected.begin(), expected.begin() + common, actual.begin());
    return static_cast<size_t>(differs.first - expected.begin());
  }
  if (expected.size() != actual.size()) {
    return common;
  }
  return std::nullopt;
}

}  // namespace ferry::bench
