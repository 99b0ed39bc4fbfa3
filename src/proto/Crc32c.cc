#include "proto/Crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ferry::proto {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // reversed Castagnoli

constexpr std::array<uint32_t, 256> makeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t value = i;
    for (int bit = 0; bit < 8; ++bit) {
      value = (value >> 1) ^ ((value & 1) ? kPolynomial : 0);
    }
    table[i] = value;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = makeTable();

uint32_t crc32cTable(const uint8_t* data, size_t size, uint32_t state) {
  for (size_t i = 0; i < size; ++i) {
    state = kTable[(state ^ data[i]) & 0xff] ^ (state >> 8);
  }
  return state;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32cHardware(const uint8_t* data, size_t size,
                                                          uint32_t state) {
  uint64_t wide = state;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    wide = _mm_crc32_u64(wide, word);
    data += 8;
    size -= 8;
  }
  auto narrow = static_cast<uint32_t>(wide);
  while (size > 0) {
    narrow = _mm_crc32_u8(narrow, *data++);
    --size;
  }
  return narrow;
}

const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc) {
#if defined(__x86_64__)
  if (kHasSse42) {
    return ~crc32cHardware(bytes.data(), bytes.size(), ~crc);
  }
#endif
  return crc32cPortable(bytes, crc);
}

uint32_t crc32cPortable(std::span<const uint8_t> bytes, uint32_t crc) {
  return ~crc32cTable(bytes.data(), bytes.size(), ~crc);
}

}  // namespace ferry::proto
