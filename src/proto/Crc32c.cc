#include "proto/Crc32c.h"

#include <array>
#include <bit>
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

constexpr uint32_t crc32cTable(const uint8_t* data, size_t size, uint32_t state) {
  for (size_t i = 0; i < size; ++i) {
    state = kTable[(state ^ data[i]) & 0xff] ^ (state >> 8);
  }
  return state;
}

/// Appending zero bytes is linear over GF(2) in the CRC register, so it is given by the images
/// of the 32 single-bit registers: image[bit].
using ZerosOperator = std::array<uint32_t, 32>;

constexpr uint32_t apply(const ZerosOperator& op, uint32_t state) {
  uint32_t image = 0;
  for (int bit = 0; bit < 32; ++bit) {
    image ^= ((state >> bit) & 1) ? op[bit] : 0;
  }
  return image;
}

/// The operator for `zeros` zero bytes (a power of two): one byte's, squared log2(zeros) times,
/// which keeps the compile-time work small (compilers cap constexpr evaluation steps).
constexpr ZerosOperator zerosOperator(size_t zeros) {
  ZerosOperator op{};
  for (int bit = 0; bit < 32; ++bit) {
    uint32_t state = uint32_t{1} << bit;
    op[bit] = kTable[state & 0xff] ^ (state >> 8);
  }
  for (size_t covered = 1; covered < zeros; covered *= 2) {
    ZerosOperator squared{};
    for (int bit = 0; bit < 32; ++bit) {
      squared[bit] = apply(op, op[bit]);
    }
    op = squared;
  }
  return op;
}

/// The same operator as four 256-entry tables, one per register byte, for four lookups per use.
using ZerosTable = std::array<std::array<uint32_t, 256>, 4>;

constexpr ZerosTable makeZerosTable(size_t zeros) {
  ZerosOperator op = zerosOperator(zeros);
  ZerosTable table{};
  for (int lane = 0; lane < 4; ++lane) {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      table[lane][byte] = apply(op, byte << (8 * lane));
    }
  }
  return table;
}

constexpr uint32_t appendZeros(const ZerosTable& table, uint32_t state) {
  return table[0][state & 0xff] ^ table[1][(state >> 8) & 0xff] ^ table[2][(state >> 16) & 0xff] ^
         table[3][state >> 24];
}

#if defined(__x86_64__)
// The crc32 instruction has a latency of 3 cycles and a throughput of 1 per cycle, so one chain
// uses a third of the unit. Three chains over the three thirds of a block run in parallel and
// are then joined: crc(A || B) = crc(A) shifted over |B| zero bytes, XOR crc(B) from 0.
constexpr size_t kLongBlock = 8192;  // bytes per chain; 3 x 8 KiB stays in L1
constexpr size_t kShortBlock = 256;
static_assert(std::has_single_bit(kLongBlock) && std::has_single_bit(kShortBlock));
constinit const ZerosTable kLongZeros = makeZerosTable(kLongBlock);
constinit const ZerosTable kShortZeros = makeZerosTable(kShortBlock);

/// Runs three chains over the next 3 x `block` bytes and joins them into `state`.
__attribute__((target("sse4.2"))) uint64_t crc32cThreeChains(const uint8_t* data, size_t block,
                                                             const ZerosTable& zeros,
                                                             uint64_t state) {
  uint64_t second = 0;
  uint64_t third = 0;
  for (size_t at = 0; at < block; at += 8) {
    uint64_t words[3];
    std::memcpy(&words[0], data + at, 8);
    std::memcpy(&words[1], data + block + at, 8);
    std::memcpy(&words[2], data + 2 * block + at, 8);
    state = _mm_crc32_u64(state, words[0]);
    second = _mm_crc32_u64(second, words[1]);
    third = _mm_crc32_u64(third, words[2]);
  }
  state = appendZeros(zeros, static_cast<uint32_t>(state)) ^ second;
  return appendZeros(zeros, static_cast<uint32_t>(state)) ^ third;
}

__attribute__((target("sse4.2"))) uint32_t crc32cHardware(const uint8_t* data, size_t size,
                                                          uint32_t state) {
  uint64_t wide = state;
  for (auto [block, zeros] : {std::pair{kLongBlock, &kLongZeros}, {kShortBlock, &kShortZeros}}) {
    while (size >= 3 * block) {
      wide = crc32cThreeChains(data, block, *zeros, wide);
      data += 3 * block;
      size -= 3 * block;
    }
  }
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
