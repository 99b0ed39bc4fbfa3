#include "proto/FrameWriter.h"

#include <fmt/format.h>

#include "proto/Crc32c.h"

namespace ferry::proto {

void FrameWriter::append(FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
  FrameHeader header;
  header.type = type;
  header.stream = stream;
  header.length = static_cast<uint32_t>(payload.size());
  header.sequence = nextSequence_++ ^ sequenceMask_;
  header.payloadCrc = crc32c(payload);
  uint8_t* out = batch_.prepareWrite(kHeaderSize + payload.size());
  encodeHeader(header, out);
  if (!payload.empty()) {
    std::memcpy(out + kHeaderSize, payload.data(), payload.size());
  }
  batch_.commit(kHeaderSize + payload.size());
}

DecodeResult FrameParser::next(std::span<const uint8_t> bytes) {
  DecodeResult result = decodeFrame(bytes);
  if (result.status != DecodeStatus::Ok) {
    return result;
  }
  uint64_t sequence = result.frame.header.sequence ^ sequenceMask_;
  if (sequence != expectedSequence_) {
    DecodeResult bad;
    bad.status = DecodeStatus::Invalid;
    bad.error = fmt::format("frame sequence {} where {} was expected", sequence, expectedSequence_);
    return bad;
  }
  result.frame.header.sequence = expectedSequence_++;
  return result;
}

}  // namespace ferry::proto
