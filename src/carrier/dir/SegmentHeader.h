#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "io/Error.h"

namespace ferry::carrier::dir {

/// The 64 bytes at the start of every lane segment, written once before any frame. Layout
/// (little-endian): magic "ferrylan" (8) | version u16 | lane u8 ('c' or 's') | zero u8 |
/// session id (16 raw bytes) | segment number u64 | sequence mask u64 | zeros (16) | crc32c of
/// bytes 0..59 u32. The frames of the segment carry their sequence numbers XOR the mask.
struct SegmentHeader {
  static constexpr size_t kSize = 64;
  // Version 2: segment files are reused (renamed and overwritten) once the reader consumed them.
  static constexpr uint16_t kVersion = 2;

  uint16_t version = kVersion;
  char lane = 'c';
  std::string sessionId;  // 32 lowercase hex digits
  uint64_t segment = 0;
  uint64_t sequenceMask = 0;

  std::array<uint8_t, kSize> encode() const;
  /// Checks magic, version, checksum and that lane, session id and segment are the expected
  /// ones; on failure the error (code EPROTO) says which field differed.
  static io::Result<void> verify(std::span<const uint8_t> bytes, char lane,
                                 const std::string& sessionId, uint64_t segment);
  /// The sequence mask of a header that verify() accepted.
  static uint64_t sequenceMaskOf(std::span<const uint8_t> bytes);
};

}  // namespace ferry::carrier::dir
