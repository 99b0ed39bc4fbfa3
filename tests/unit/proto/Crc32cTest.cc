#include "proto/Crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string_view>
#include <vector>

namespace ferry::proto {
namespace {

std::span<const uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

/// Bit-at-a-time reference, independent of the implementation under test; `seed` is the CRC of
/// the bytes before these.
uint32_t reference(std::span<const uint8_t> bytes, uint32_t seed = 0) {
  uint32_t crc = ~seed;
  for (uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
    }
  }
  return ~crc;
}

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 (iSCSI) appendix B.4 and the common check value.
  std::vector<uint8_t> zeros(32, 0x00);
  std::vector<uint8_t> ones(32, 0xff);
  std::vector<uint8_t> ascending(32);
  std::vector<uint8_t> descending(32);
  for (uint8_t i = 0; i < 32; ++i) {
    ascending[i] = i;
    descending[i] = static_cast<uint8_t>(31 - i);
  }
  for (auto* function : {&crc32c, &reference}) {
    EXPECT_EQ(function(bytesOf("123456789"), 0), 0xE3069283u);
    EXPECT_EQ(function(zeros, 0), 0x8A9136AAu);
    EXPECT_EQ(function(ones, 0), 0x62A8AB43u);
    EXPECT_EQ(function(ascending, 0), 0x46DD794Eu);
    EXPECT_EQ(function(descending, 0), 0x113FDB5Cu);
    EXPECT_EQ(function({}, 0), 0u);
  }
}

TEST(Crc32cTest, AgreesWithTheReferenceOnSmallInputsAtAnyAlignment) {
  std::mt19937 random(12345);
  std::vector<uint8_t> bytes(70000);
  for (uint8_t& byte : bytes) {
    byte = static_cast<uint8_t>(random());
  }
  for (size_t size = 0; size <= 300; ++size) {
    for (size_t offset : {0u, 1u, 3u, 7u}) {  // unaligned starts too
      std::span<const uint8_t> slice(bytes.data() + offset, size);
      uint32_t expected = reference(slice);
      ASSERT_EQ(crc32c(slice), expected) << "size " << size << " offset " << offset;
    }
  }
  for (size_t size : {1023u, 4096u, 65536u, 69999u}) {
    std::span<const uint8_t> slice(bytes.data() + 1, size);
    EXPECT_EQ(crc32c(slice), reference(slice)) << size;
  }
}

TEST(Crc32cTest, AgreesWithTheReferenceOnLargeInputsAndSeeds) {
  // The library folds in blocks (of 64 to 256 bytes, by version) and finishes with shorter
  // steps: sizes around block boundaries, and random sizes up to 1 MiB at random alignments and
  // seeds, must give what the bit-at-a-time reference gives.
  std::mt19937 random(777);
  std::vector<uint8_t> bytes((1u << 20) + 64);
  for (uint8_t& byte : bytes) {
    byte = static_cast<uint8_t>(random());
  }
  std::vector<size_t> sizes;
  for (size_t block : {64u, 256u, 768u, 24576u}) {
    for (size_t multiple : {1u, 2u, 3u}) {
      for (size_t delta : {0u, 1u, 7u, 8u, 9u}) {
        sizes.push_back(multiple * block + delta);
        sizes.push_back(multiple * block - delta);
      }
    }
  }
  std::uniform_int_distribution<size_t> anySize(0, 1u << 20);
  for (int i = 0; i < 16; ++i) {
    sizes.push_back(anySize(random));
  }
  sizes.push_back(1u << 20);
  for (size_t size : sizes) {
    size_t offset = random() % 64;
    uint32_t seed = static_cast<uint32_t>(random());
    std::span<const uint8_t> slice(bytes.data() + offset, size);
    ASSERT_EQ(crc32c(slice, seed), reference(slice, seed))
        << "size " << size << " offset " << offset;
  }
}

TEST(Crc32cTest, LongRunsOfOneByteKeepTheKnownValue) {
  // Long runs of zeros and ones through the folding loop; the value comes from the bit-at-a-time
  // reference, which shares no code with crc32c().
  std::vector<uint8_t> zeros(3 * 8192, 0x00);
  EXPECT_EQ(crc32c(zeros), reference(zeros));
  std::vector<uint8_t> ones(3 * 8192 + 3 * 256 + 5, 0xff);
  EXPECT_EQ(crc32c(ones), reference(ones));
}

TEST(Crc32cTest, IncrementalEqualsOneShot) {
  std::string_view text = "The quick brown fox jumps over the lazy dog";
  uint32_t whole = crc32c(bytesOf(text));
  for (size_t split = 0; split <= text.size(); ++split) {
    uint32_t first = crc32c(bytesOf(text.substr(0, split)));
    EXPECT_EQ(crc32c(bytesOf(text.substr(split)), first), whole) << split;
  }
}

}  // namespace
}  // namespace ferry::proto
