#include "carrier/dir/SegmentHeader.h"

#include <cstring>

#include <fmt/format.h>

#include "proto/Crc32c.h"
#include "proto/Frame.h"

namespace ferry::carrier::dir {
namespace {

constexpr char kMagic[8] = {'f', 'e', 'r', 'r', 'y', 'l', 'a', 'n'};
constexpr size_t kOffVersion = 8;
constexpr size_t kOffLane = 10;
constexpr size_t kOffSession = 12;
constexpr size_t kOffSegment = 28;
constexpr size_t kOffSequenceMask = 36;
constexpr size_t kOffCrc = 60;

std::unexpected<io::Error> invalid(std::string why) {
  return std::unexpected(io::Error{EPROTO, std::move(why)});
}

uint8_t hexValue(char c) {
  return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10);
}

void packSessionId(const std::string& sid, uint8_t* out) {
  for (size_t i = 0; i < 16 && 2 * i + 1 < sid.size(); ++i) {
    out[i] = static_cast<uint8_t>(hexValue(sid[2 * i]) << 4 | hexValue(sid[2 * i + 1]));
  }
}

}  // namespace

std::array<uint8_t, SegmentHeader::kSize> SegmentHeader::encode() const {
  std::array<uint8_t, kSize> out{};
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  std::memcpy(out.data() + kOffVersion, &version, sizeof version);
  out[kOffLane] = static_cast<uint8_t>(lane);
  packSessionId(sessionId, out.data() + kOffSession);
  proto::putU64(out.data() + kOffSegment, segment);
  proto::putU64(out.data() + kOffSequenceMask, sequenceMask);
  proto::putU32(out.data() + kOffCrc, proto::crc32c({out.data(), kOffCrc}));
  return out;
}

io::Result<void> SegmentHeader::verify(std::span<const uint8_t> bytes, char lane,
                                       const std::string& sessionId, uint64_t segment) {
  if (bytes.size() < kSize) {
    return invalid(fmt::format("segment header has {} of {} bytes", bytes.size(), kSize));
  }
  const uint8_t* in = bytes.data();
  if (std::memcmp(in, kMagic, sizeof kMagic) != 0) {
    return invalid("bad segment header magic");
  }
  if (proto::crc32c({in, kOffCrc}) != proto::getU32(in + kOffCrc)) {
    return invalid("segment header checksum mismatch");
  }
  uint16_t version;
  std::memcpy(&version, in + kOffVersion, sizeof version);
  if (version != kVersion) {
    return invalid(fmt::format("segment header version {} (want {})", version, kVersion));
  }
  uint8_t expectedId[16] = {};
  packSessionId(sessionId, expectedId);
  if (in[kOffLane] != static_cast<uint8_t>(lane) ||
      std::memcmp(in + kOffSession, expectedId, sizeof expectedId) != 0) {
    return invalid("segment header belongs to another lane or session");
  }
  if (proto::getU64(in + kOffSegment) != segment) {
    return invalid(fmt::format("segment header numbers segment {} (want {})",
                               proto::getU64(in + kOffSegment), segment));
  }
  return {};
}

uint64_t SegmentHeader::sequenceMaskOf(std::span<const uint8_t> bytes) {
  return proto::getU64(bytes.data() + kOffSequenceMask);
}

}  // namespace ferry::carrier::dir
