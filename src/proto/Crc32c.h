#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ferry::proto {

/// CRC32C (Castagnoli), as used by iSCSI and ext4, from ISA-L (Debian's libisal), which picks
/// the fastest version the CPU runs: folding with carry-less multiplies (VPCLMULQDQ on AVX-512
/// machines, about 2x three interleaved crc32 instruction chains on 1400 B to 1 MiB), the crc32
/// instruction, or a table. `crc` is the value of the bytes before these, so that a CRC can be
/// computed in pieces.
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace ferry::proto
