#pragma once

#include <cstdint>
#include <span>

#include "proto/Crc32c.h"
#include "proto/Frame.h"

namespace ferry::fuzz {

/// Rewrites the checksums of the frames laid end to end in `bytes` (payload CRC, then header CRC,
/// taking each frame's length field as it stands), so that mutated inputs get past the CRC
/// checks and reach the rules behind them: a fuzzer cannot guess a CRC-32C. A length that runs
/// past the end gets only its header CRC fixed, and ends the walk. With `renumberFrom`, the frames
/// are also numbered *renumberFrom, *renumberFrom + 1, ... (the counter is advanced), each
/// number XOR `sequenceMask` as a directory lane segment writes them.
inline void fixChecksums(std::span<uint8_t> bytes, uint64_t* renumberFrom = nullptr,
                         uint64_t sequenceMask = 0) {
  constexpr size_t kOffLength = 8;
  constexpr size_t kOffSequence = 12;
  constexpr size_t kOffPayloadCrc = 20;
  constexpr size_t kOffHeaderCrc = 24;
  size_t offset = 0;
  while (bytes.size() - offset >= proto::kHeaderSize) {
    uint8_t* header = bytes.data() + offset;
    uint32_t length = proto::getU32(header + kOffLength);
    bool whole = length <= bytes.size() - offset - proto::kHeaderSize;
    if (renumberFrom != nullptr) {
      proto::putU64(header + kOffSequence, (*renumberFrom)++ ^ sequenceMask);
    }
    if (whole) {
      proto::putU32(header + kOffPayloadCrc,
                    proto::crc32c(bytes.subspan(offset + proto::kHeaderSize, length)));
    }
    proto::putU32(header + kOffHeaderCrc, proto::crc32c({header, kOffHeaderCrc}));
    if (!whole) {
      return;
    }
    offset += proto::kHeaderSize + length;
  }
}

}  // namespace ferry::fuzz
