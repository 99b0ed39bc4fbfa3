#include "proto/Crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <climits>

namespace ferry::proto {

uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc) {
  // ISA-L's iSCSI CRC is the CRC32C register update: no inversion on the way in or out.
  uint32_t state = ~crc;
  while (!bytes.empty()) {
    size_t chunk = std::min<size_t>(bytes.size(), INT_MAX);  // ISA-L takes an int length
    // ISA-L only reads the buffer; its signature predates const.
    state = crc32_iscsi(const_cast<uint8_t*>(bytes.data()), static_cast<int>(chunk), state);
    bytes = bytes.subspan(chunk);
  }
  return ~state;
}

}  // namespace ferry::proto
