#include "proto/Frame.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "proto/Crc32c.h"

namespace ferry::proto {
namespace {

static_assert(std::endian::native == std::endian::little, "ferry assumes a little-endian host");

// Header layout (little-endian): magic u16 | flags u8 | type u8 | stream u32 | length u32 |
// sequence u64 | payload crc u32 | header crc u32 (over bytes 0..23).
constexpr size_t kOffMagic = 0;
constexpr size_t kOffFlags = 2;
constexpr size_t kOffType = 3;
constexpr size_t kOffStream = 4;
constexpr size_t kOffLength = 8;
constexpr size_t kOffSequence = 12;
constexpr size_t kOffPayloadCrc = 20;
constexpr size_t kOffHeaderCrc = 24;

uint16_t getU16(const uint8_t* in) {
  uint16_t value;
  std::memcpy(&value, in, sizeof value);
  return value;
}

DecodeResult invalid(std::string error) {
  DecodeResult result;
  result.status = DecodeStatus::Invalid;
  result.error = std::move(error);
  return result;
}

}  // namespace

void putU32(uint8_t* out, uint32_t value) {
  std::memcpy(out, &value, sizeof value);
}
void putU64(uint8_t* out, uint64_t value) {
  std::memcpy(out, &value, sizeof value);
}
uint32_t getU32(const uint8_t* in) {
  uint32_t value;
  std::memcpy(&value, in, sizeof value);
  return value;
}
uint64_t getU64(const uint8_t* in) {
  uint64_t value;
  std::memcpy(&value, in, sizeof value);
  return value;
}

bool isSessionFrameType(uint8_t type) {
  return type >= static_cast<uint8_t>(FrameType::Hello) &&
         type <= static_cast<uint8_t>(FrameType::Blocked);
}

bool isKnownFrameType(uint8_t type) {
  return isSessionFrameType(type) || type == static_cast<uint8_t>(FrameType::Rotate) ||
         type == static_cast<uint8_t>(FrameType::SegmentAck) ||
         (type >= static_cast<uint8_t>(FrameType::AuthHello) &&
          type <= static_cast<uint8_t>(FrameType::Sealed));
}

const char* frameTypeName(FrameType type) {
  switch (type) {
    case FrameType::Hello:
      return "HELLO";
    case FrameType::Open:
      return "OPEN";
    case FrameType::Data:
      return "DATA";
    case FrameType::Fin:
      return "FIN";
    case FrameType::Rst:
      return "RST";
    case FrameType::Window:
      return "WINDOW";
    case FrameType::Ping:
      return "PING";
    case FrameType::Bye:
      return "BYE";
    case FrameType::Opened:
      return "OPENED";
    case FrameType::DatagramOpen:
      return "DGRAM_OPEN";
    case FrameType::Datagram:
      return "DGRAM";
    case FrameType::DatagramClose:
      return "DGRAM_CLOSE";
    case FrameType::Blocked:
      return "BLOCKED";
    case FrameType::Listen:
      return "LISTEN";
    case FrameType::ListenResult:
      return "LISTEN_RESULT";
    case FrameType::Rotate:
      return "ROTATE";
    case FrameType::SegmentAck:
      return "SEGACK";
    case FrameType::AuthHello:
      return "AUTH_HELLO";
    case FrameType::AuthProof:
      return "AUTH_PROOF";
    case FrameType::Sealed:
      return "SEALED";
  }
  return "UNKNOWN";
}

const char* rstCodeName(RstCode code) {
  switch (code) {
    case RstCode::Other:
      return "other";
    case RstCode::NotAllowed:
      return "not allowed";
    case RstCode::Refused:
      return "connection refused";
    case RstCode::HostUnreachable:
      return "host unreachable";
    case RstCode::NetworkUnreachable:
      return "network unreachable";
    case RstCode::TimedOut:
      return "timed out";
    case RstCode::NameNotResolved:
      return "name did not resolve";
  }
  return "other";
}

std::string encodeRst(RstCode code, std::string_view reason) {
  std::string payload(1, static_cast<char>(code));
  payload += reason;
  return payload;
}

RstPayload decodeRst(std::span<const uint8_t> payload) {
  auto text = [&](size_t from) {
    return std::string_view(reinterpret_cast<const char*>(payload.data()) + from,
                            payload.size() - from);
  };
  if (payload.empty() || payload[0] >= 0x20) {
    return {RstCode::Other, text(0)};
  }
  RstCode code = payload[0] <= kMaxRstCode ? static_cast<RstCode>(payload[0]) : RstCode::Other;
  return {code, text(1)};
}

void encodeHeader(const FrameHeader& header, uint8_t* out) {
  uint16_t magic = kFrameMagic;
  std::memcpy(out + kOffMagic, &magic, sizeof magic);
  out[kOffFlags] = header.flags;
  out[kOffType] = static_cast<uint8_t>(header.type);
  putU32(out + kOffStream, header.stream);
  putU32(out + kOffLength, header.length);
  putU64(out + kOffSequence, header.sequence);
  putU32(out + kOffPayloadCrc, header.payloadCrc);
  putU32(out + kOffHeaderCrc, crc32c({out, kOffHeaderCrc}));
}

DecodeResult decodeFrame(std::span<const uint8_t> bytes) {
  // Check each field as soon as its bytes are present, so garbage is rejected early instead of
  // being waited for.
  if (bytes.size() >= 2 && getU16(bytes.data() + kOffMagic) != kFrameMagic) {
    return invalid(fmt::format("bad magic 0x{:04x}", getU16(bytes.data())));
  }
  if (bytes.size() >= kOffType + 1 && !isKnownFrameType(bytes[kOffType])) {
    return invalid(fmt::format("unknown frame type {}", bytes[kOffType]));
  }
  if (bytes.size() >= kOffLength + 4 && getU32(bytes.data() + kOffLength) > kMaxPayload) {
    return invalid(fmt::format("payload length {} exceeds the maximum {}",
                               getU32(bytes.data() + kOffLength), kMaxPayload));
  }
  if (bytes.size() < kHeaderSize) {
    return {};
  }
  const uint8_t* in = bytes.data();
  uint32_t headerCrc = getU32(in + kOffHeaderCrc);
  if (crc32c({in, kOffHeaderCrc}) != headerCrc) {
    return invalid("header checksum mismatch");
  }
  DecodeResult result;
  FrameHeader& header = result.frame.header;
  header.flags = in[kOffFlags];
  header.type = static_cast<FrameType>(in[kOffType]);
  header.stream = getU32(in + kOffStream);
  header.length = getU32(in + kOffLength);
  header.sequence = getU64(in + kOffSequence);
  header.payloadCrc = getU32(in + kOffPayloadCrc);
  if (bytes.size() - kHeaderSize < header.length) {
    return {};
  }
  std::span<const uint8_t> payload = bytes.subspan(kHeaderSize, header.length);
  if (crc32c(payload) != header.payloadCrc) {
    return invalid(fmt::format("payload checksum mismatch in {} frame, sequence {}",
                               frameTypeName(header.type), header.sequence));
  }
  result.status = DecodeStatus::Ok;
  result.frame.payload = payload;
  result.consumed = kHeaderSize + header.length;
  return result;
}

void encodeHello(const HelloPayload& hello, uint8_t* out) {
  std::memcpy(out, &hello.version, 2);
  out[2] = hello.role;
  out[3] = 0;
  putU32(out + 4, hello.heartbeatMs);
}

bool decodeHello(std::span<const uint8_t> payload, HelloPayload& hello) {
  if (payload.size() < HelloPayload::kSize) {
    return false;
  }
  std::memcpy(&hello.version, payload.data(), 2);
  hello.role = payload[2];
  hello.heartbeatMs = getU32(payload.data() + 4);
  return true;
}

}  // namespace ferry::proto
