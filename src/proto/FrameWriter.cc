#include "proto/FrameWriter.h"

#include <cstring>

#include <fmt/format.h>

#include "io/Bug.h"
#include "proto/Crc32c.h"

namespace ferry::proto {

void FrameWriter::append(FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
  std::span<uint8_t> room = reserve(type, stream, payload.size());
  if (!payload.empty()) {
    std::memcpy(room.data(), payload.data(), payload.size());
  }
  finish(payload.size());
  reservedRoom_ = 0;
}

std::span<uint8_t> FrameWriter::reserve(FrameType type, uint32_t stream, size_t max) {
  uint8_t* frame = batch_.prepareWrite(kHeaderSize + max);
  std::span<uint8_t> room = reserveAt(frame, type, stream, max);
  reservedAt_ = nullptr;  // in the batch: commit() appends it there
  return room;
}

std::span<uint8_t> FrameWriter::reserveAt(uint8_t* frame, FrameType type, uint32_t stream,
                                          size_t max) {
  reservedType_ = type;
  reservedStream_ = stream;
  reservedRoom_ = max;
  reservedAt_ = frame;
  return {frame + kHeaderSize, max};
}

void FrameWriter::commit(size_t n) {
  // More than the room would checksum and send bytes past what the caller filled in.
  FERRY_CHECK(n <= reservedRoom_, "commit of {} bytes into a reserved room of {}", n,
              reservedRoom_);
  reservedRoom_ = 0;
  if (n > 0 && reservedAt_ != nullptr) {
    encodeAt(reservedAt_, n);
  } else if (n > 0) {
    finish(n);
  }
  reservedAt_ = nullptr;
}

void FrameWriter::finish(size_t n) {
  // The header slot and the payload are where reserve() left them: just past the batch's end.
  uint8_t* out = batch_.prepareWrite(kHeaderSize + n);
  encodeAt(out, n);
  batch_.commit(kHeaderSize + n);
}

void FrameWriter::encodeAt(uint8_t* out, size_t n) {
  FrameHeader header;
  header.type = reservedType_;
  header.stream = reservedStream_;
  header.length = static_cast<uint32_t>(n);
  header.sequence = nextSequence_++ ^ sequenceMask_;
  header.payloadCrc = crc32c({out + kHeaderSize, n});
  encodeHeader(header, out);
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
