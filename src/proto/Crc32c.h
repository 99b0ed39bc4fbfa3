#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ferry::proto {

/// CRC32C (Castagnoli), as used by iSCSI and ext4: uses the SSE4.2 instruction when the CPU has
/// it (three interleaved chains from 768 bytes on, about 2.5x one chain), a table otherwise.
/// Debian ships no C++ CRC32C library, hence this small one.
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);
/// The table implementation crc32c() falls back to; public so tests can check both paths agree.
uint32_t crc32cPortable(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace ferry::proto
