#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ferry::proto {

/// Wire format version 4; see docs/protocol.md, which is the reference for every constant here.
constexpr uint16_t kProtocolVersion = 4;
constexpr uint16_t kFrameMagic = 0x7946;  // bytes 'F','y' on the wire: never zero
constexpr size_t kHeaderSize = 28;
/// Largest payload a peer may send; a larger length is rejected before anything is allocated.
constexpr uint32_t kMaxPayload = 1u << 20;  // 1 MiB
/// Credit each side grants per stream when the stream opens, in bytes.
constexpr uint32_t kInitialStreamWindow = 256 * 1024;
/// Longest destination an Open or DatagramOpen may name; a longer one is refused unread.
constexpr size_t kMaxTargetLength = 512;

enum class FrameType : uint8_t {
  // Session frames (mux layer).
  Hello = 1,          // payload: HelloPayload
  Open = 2,           // stream opens; payload: target "host:port", empty for the server's default
  Data = 3,           // stream bytes
  Fin = 4,            // sender will send no more Data on this stream (half-close)
  Rst = 5,            // stream aborted; payload: RstPayload (u8 RstCode + optional UTF-8 reason)
  Window = 6,         // payload: u32 credit increment in bytes
  Ping = 7,           // payload: u64 counter; liveness
  Bye = 8,            // the sender is ending the session cleanly
  Opened = 9,         // the destination of the stream's Open is connected; no payload
  Listen = 10,        // stream 0, client -> server: listen for a reverse forward (proto/Listen.h)
  ListenResult = 11,  // stream 0, server -> client: the answer to a Listen (proto/Listen.h)
  // Datagram frames (mux layer): UDP flows, outside stream credit (proto/Datagram.h).
  DatagramOpen = 12,   // flow id in the stream field (client parity); payload: target "host:port"
  Datagram = 13,       // one datagram of the flow, boundaries kept
  DatagramClose = 14,  // the flow ended; payload: optional u8 FlowCloseReason
  // Stream frame (mux layer), version 4.
  Blocked = 15,  // the sender has bytes for this stream but no credit left; no payload
  // Carrier frames (stream 0): consumed by the carrier that wrote them, never seen by mux.
  Rotate = 16,      // dir lane continues in segment number u64 (payload)
  SegmentAck = 17,  // payload u64: the sender consumed and closed that segment of the peer's lane
  // Pre-shared-key frames (stream 0): consumed by carrier/secure, never seen by mux.
  AuthHello = 32,  // payload: auth version u8, role u8, reserved u16, 32-byte random nonce
  AuthProof = 33,  // payload: 32-byte MAC proving the sender holds the key
  Sealed = 34,     // payload: one AEAD-sealed session frame (type, stream, payload) + 16-byte tag
};

/// True for the frame types above.
bool isKnownFrameType(uint8_t type);
/// True for the frames the session (mux) handles, Hello to Blocked: the known types except the
/// carrier frames (Rotate, SegmentAck, AuthHello, AuthProof, Sealed), which a carrier consumes.
bool isSessionFrameType(uint8_t type);
const char* frameTypeName(FrameType type);

struct FrameHeader {
  FrameType type = FrameType::Data;
  uint8_t flags = 0;
  uint32_t stream = 0;
  uint32_t length = 0;    // payload bytes
  uint64_t sequence = 0;  // per channel and direction: 0, 1, 2, ... with no gaps
  uint32_t payloadCrc = 0;
};

struct Frame {
  FrameHeader header;
  std::span<const uint8_t> payload;
};

/// Writes the 28-byte header for `header` (payloadCrc must already be set) into `out`.
void encodeHeader(const FrameHeader& header, uint8_t* out);

enum class DecodeStatus {
  Ok,        // `frame` is valid and `consumed` bytes long
  NeedMore,  // the bytes are a valid prefix of a frame (or empty)
  Invalid,   // the bytes at the start cannot be a frame; `error` says which rule failed
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::NeedMore;
  Frame frame;
  size_t consumed = 0;
  std::string error;
};

/// Decodes the frame at the start of `bytes`. Never reads outside `bytes`, never allocates for
/// the payload (the frame's payload points into `bytes`), never throws on any input.
DecodeResult decodeFrame(std::span<const uint8_t> bytes);

/// Fixed-size payload of Hello.
struct HelloPayload {
  uint16_t version = kProtocolVersion;
  uint8_t role = 0;          // 1 client, 2 server
  uint32_t heartbeatMs = 0;  // how often the sender pings
  static constexpr size_t kSize = 8;
};
void encodeHello(const HelloPayload& hello, uint8_t* out);
bool decodeHello(std::span<const uint8_t> payload, HelloPayload& hello);

/// The bytes of a text payload (an Open target, an Rst or Bye reason).
inline std::span<const uint8_t> textPayload(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

/// Why a stream was reset, the first byte of an Rst payload (docs/protocol.md). The codes other
/// than Other describe a failed Open, so that a proxy can answer with the matching error.
enum class RstCode : uint8_t {
  Other = 0,
  NotAllowed = 1,  // the server's policy refused the destination
  Refused = 2,     // the destination refused the connection
  HostUnreachable = 3,
  NetworkUnreachable = 4,
  TimedOut = 5,
  NameNotResolved = 6,
};
constexpr uint8_t kMaxRstCode = 6;
const char* rstCodeName(RstCode code);

struct RstPayload {
  RstCode code = RstCode::Other;
  std::string_view reason;
};
/// Code byte then the reason text.
std::string encodeRst(RstCode code, std::string_view reason);
/// Never fails: a payload whose first byte is printable (>= 0x20) is all reason text with code
/// Other (a peer that sends no code), and a code byte above kMaxRstCode reads as Other.
RstPayload decodeRst(std::span<const uint8_t> payload);

/// Little-endian helpers for payload fields; memcpy-based, never a cast.
void putU32(uint8_t* out, uint32_t value);
void putU64(uint8_t* out, uint64_t value);
uint32_t getU32(const uint8_t* in);
uint64_t getU64(const uint8_t* in);

}  // namespace ferry::proto
