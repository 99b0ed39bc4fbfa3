// Fuzzes the frame codec (proto::decodeFrame, proto::FrameParser) with arbitrary bytes.
//
// Properties: decoding never reads outside the input (ASan) and never crashes; a frame decoded as
// Ok lies inside the input and re-encodes to exactly the bytes it was decoded from; every proper
// prefix of an Ok frame is NeedMore (a valid prefix), never Invalid; Invalid always names the
// rule; and a FrameParser fed the same bytes in arbitrary pieces (as a socket delivers them)
// yields exactly the frames of a one-shot parse, numbered 0, 1, 2, ...
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "FixChecksums.h"
#include "FuzzCheck.h"
#include "FuzzMain.h"
#include "io/Buffer.h"
#include "proto/Frame.h"
#include "proto/FrameWriter.h"

using namespace ferry;

namespace {

struct Decoded {
  proto::FrameHeader header;
  std::vector<uint8_t> payload;
};

void checkOneFrame(std::span<const uint8_t> bytes) {
  proto::DecodeResult result = proto::decodeFrame(bytes);
  switch (result.status) {
    case proto::DecodeStatus::NeedMore:
      FUZZ_CHECK(result.consumed == 0);
      return;
    case proto::DecodeStatus::Invalid:
      FUZZ_CHECK(!result.error.empty());
      FUZZ_CHECK(result.consumed == 0);
      return;
    case proto::DecodeStatus::Ok:
      break;
  }
  const proto::FrameHeader& header = result.frame.header;
  FUZZ_CHECK(proto::isKnownFrameType(static_cast<uint8_t>(header.type)));
  FUZZ_CHECK(header.length <= proto::kMaxPayload);
  FUZZ_CHECK(result.consumed == proto::kHeaderSize + header.length);
  FUZZ_CHECK(result.consumed <= bytes.size());
  FUZZ_CHECK(result.frame.payload.size() == header.length);
  FUZZ_CHECK(result.frame.payload.data() == bytes.data() + proto::kHeaderSize);

  // Round trip: the header re-encodes to the same 28 bytes, the payload is the bytes after it.
  uint8_t encoded[proto::kHeaderSize];
  proto::encodeHeader(header, encoded);
  FUZZ_CHECK(std::memcmp(encoded, bytes.data(), proto::kHeaderSize) == 0);

  // A frame written by the project's own writer with the same fields is the same bytes, too.
  if (header.flags == 0 && header.sequence < 4) {
    proto::FrameWriter writer;
    for (uint64_t i = 0; i < header.sequence; ++i) {
      writer.append(proto::FrameType::Ping, 0, {});
    }
    size_t skip = writer.batch().readable();
    writer.append(header.type, header.stream, result.frame.payload);
    std::span<const uint8_t> written = writer.batch().view().subspan(skip);
    FUZZ_CHECK(written.size() == result.consumed);
    FUZZ_CHECK(std::equal(written.begin(), written.end(), bytes.begin()));
  }

  // Every proper prefix of a valid frame is "need more", never "invalid".
  size_t cuts[] = {0, 1, 2, 3, 4, 11, 12, 19, 20, 27, 28, 29, result.consumed - 1};
  for (size_t cut : cuts) {
    if (cut < result.consumed) {
      FUZZ_CHECK(proto::decodeFrame(bytes.first(cut)).status == proto::DecodeStatus::NeedMore);
    }
  }

  if (header.type == proto::FrameType::Hello) {
    proto::HelloPayload hello;
    bool decoded = proto::decodeHello(result.frame.payload, hello);
    FUZZ_CHECK(decoded == (header.length >= proto::HelloPayload::kSize));
  }
}

/// Parses all of `bytes` at once; returns the frames before the first non-Ok result.
std::vector<Decoded> parseWhole(std::span<const uint8_t> bytes, proto::DecodeStatus& end) {
  proto::FrameParser parser;
  std::vector<Decoded> frames;
  size_t offset = 0;
  while (true) {
    proto::DecodeResult result = parser.next(bytes.subspan(offset));
    if (result.status != proto::DecodeStatus::Ok) {
      end = result.status;
      return frames;
    }
    FUZZ_CHECK(result.frame.header.sequence == frames.size());
    FUZZ_CHECK(result.consumed >= proto::kHeaderSize);
    checkOneFrame(bytes.subspan(offset));
    frames.push_back(
        {result.frame.header, {result.frame.payload.begin(), result.frame.payload.end()}});
    offset += result.consumed;
  }
}

/// Feeds `bytes` to a parser in pieces whose sizes come from `sizes`, as a socket reader does.
std::vector<Decoded> parsePieces(std::span<const uint8_t> bytes, std::span<const uint8_t> sizes,
                                 proto::DecodeStatus& end) {
  proto::FrameParser parser;
  io::Buffer buffer;
  std::vector<Decoded> frames;
  size_t offset = 0;
  size_t piece = 0;
  end = proto::DecodeStatus::NeedMore;
  while (offset < bytes.size()) {
    size_t size = sizes.empty() ? bytes.size() : 1 + sizes[piece++ % sizes.size()];
    size = std::min(size, bytes.size() - offset);
    buffer.append(bytes.data() + offset, size);
    offset += size;
    while (true) {
      proto::DecodeResult result = parser.next(buffer.view());
      if (result.status == proto::DecodeStatus::Invalid) {
        end = result.status;
        return frames;
      }
      if (result.status == proto::DecodeStatus::NeedMore) {
        break;
      }
      frames.push_back(
          {result.frame.header, {result.frame.payload.begin(), result.frame.payload.end()}});
      buffer.consume(result.consumed);
    }
  }
  return frames;
}

bool sameFrame(const Decoded& a, const Decoded& b) {
  return a.header.type == b.header.type && a.header.flags == b.header.flags &&
         a.header.stream == b.header.stream && a.header.length == b.header.length &&
         a.header.sequence == b.header.sequence && a.header.payloadCrc == b.header.payloadCrc &&
         a.payload == b.payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Unless the top bit of the last byte is set, the frames' checksums are made valid first, so
  // mutations reach the rules behind the CRC checks too. An exactly sized copy keeps ASan precise.
  std::vector<uint8_t> input(data, data + size);
  if (size > 0 && (data[size - 1] & 0x80) == 0) {
    fuzz::fixChecksums(input);
  }
  std::span<const uint8_t> bytes(input);
  checkOneFrame(bytes);

  proto::DecodeStatus wholeEnd;
  std::vector<Decoded> whole = parseWhole(bytes, wholeEnd);

  // The last byte picks how the input is cut into pieces (1..256 bytes, cycling over a few
  // bytes of the input), so the fuzzer explores splits without a separate input format.
  std::span<const uint8_t> sizes = size > 0 ? bytes.last(std::min<size_t>(size, 4)) : bytes;
  proto::DecodeStatus piecesEnd;
  std::vector<Decoded> pieces = parsePieces(bytes, sizes, piecesEnd);
  FUZZ_CHECK(pieces.size() == whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    FUZZ_CHECK(sameFrame(whole[i], pieces[i]));
  }
  FUZZ_CHECK(piecesEnd == wholeEnd);
  return 0;
}

std::vector<fuzz::Seed> fuzz::seeds() {
  auto batch = [](const std::function<void(proto::FrameWriter&)>& fill) {
    proto::FrameWriter writer;
    fill(writer);
    std::span<const uint8_t> bytes = writer.batch().view();
    return fuzz::Seed(bytes.begin(), bytes.end());
  };
  auto text = [](std::string_view s) {
    return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  std::vector<fuzz::Seed> out;
  out.push_back(batch([](proto::FrameWriter& w) {
    uint8_t hello[proto::HelloPayload::kSize];
    proto::encodeHello(proto::HelloPayload{proto::kProtocolVersion, 1, 1000}, hello);
    w.append(proto::FrameType::Hello, 0, hello);
  }));
  out.push_back(batch([&](proto::FrameWriter& w) {
    w.append(proto::FrameType::Open, 1, text("127.0.0.1:8080"));
    w.append(proto::FrameType::Data, 1, text("GET / HTTP/1.0\r\n\r\n"));
    w.append(proto::FrameType::Fin, 1, {});
  }));
  out.push_back(batch([&](proto::FrameWriter& w) {
    uint8_t eight[8];
    proto::putU64(eight, 7);
    w.append(proto::FrameType::Ping, 0, eight);
    w.append(proto::FrameType::Window, 3, std::span(eight, 4));
    w.append(proto::FrameType::Rst, 3, text("refused"));
    w.append(proto::FrameType::Rotate, 0, eight);
    w.append(proto::FrameType::SegmentAck, 0, eight);
    w.append(proto::FrameType::Bye, 0, {});
  }));
  out.push_back(batch([](proto::FrameWriter& w) {
    std::vector<uint8_t> nonce(36, 0x5a);
    w.append(proto::FrameType::AuthHello, 0, nonce);
    w.append(proto::FrameType::AuthProof, 0, std::span(nonce).first(32));
    w.append(proto::FrameType::Sealed, 0, std::span(nonce).first(25));
  }));
  // A torn tail: one whole frame and half of the next.
  fuzz::Seed torn = out[1];
  torn.resize(torn.size() - 10);
  out.push_back(torn);
  return out;
}
