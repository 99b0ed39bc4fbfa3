#pragma once

#include <cstdint>
#include <span>

#include "io/Buffer.h"
#include "proto/Frame.h"

namespace ferry::proto {

/// Encodes frames into one batch buffer and numbers them: every carrier keeps one per outgoing
/// direction, appends the frames of a loop tick, then writes the batch with one syscall.
class FrameWriter {
 public:
  /// Appends one frame (header + a copy of the payload) to the batch.
  void append(FrameType type, uint32_t stream, std::span<const uint8_t> payload);
  /// Room in the batch for the payload (at most `max` bytes) of one frame, after a header slot;
  /// commit(n) finishes the frame. Nothing else may be appended in between.
  std::span<uint8_t> reserve(FrameType type, uint32_t stream, size_t max);
  /// reserve(), but the frame goes to `frame` (kHeaderSize + max bytes the caller owns, e.g. a
  /// mapped file) instead of the batch: commit(n) then writes its header there.
  std::span<uint8_t> reserveAt(uint8_t* frame, FrameType type, uint32_t stream, size_t max);
  /// Finishes the reserved frame with the first `n` bytes of its room: header with length,
  /// checksum and the next sequence number. n == 0 cancels it (nothing added, no number used).
  /// n beyond the reserved room, or n > 0 without a reservation, is a FERRY_BUG.
  void commit(size_t n);

  /// The sequence field on the wire is the frame number XOR this mask (0 unless set). A
  /// directory lane changes it per segment file, at random, so that bytes left in a reused file
  /// from its earlier life can never pass for a current frame (docs/protocol.md).
  void setSequenceMask(uint64_t mask) { sequenceMask_ = mask; }

  io::Buffer& batch() { return batch_; }
  const io::Buffer& batch() const { return batch_; }
  uint64_t nextSequence() const { return nextSequence_; }

 private:
  /// Writes the reserved frame's header for `n` payload bytes and adds it to the batch.
  void finish(size_t n);
  /// Writes the header of the frame at `out` (its payload follows the header slot).
  void encodeAt(uint8_t* out, size_t n);

  io::Buffer batch_;
  FrameType reservedType_ = FrameType::Data;
  uint32_t reservedStream_ = 0;
  size_t reservedRoom_ = 0;        // the payload room of the pending reservation, 0 if none
  uint8_t* reservedAt_ = nullptr;  // reserveAt()'s frame, null for a reservation in the batch
  uint64_t nextSequence_ = 0;
  uint64_t sequenceMask_ = 0;
};

/// Decodes a byte channel frame by frame and enforces the sequence rule (0, 1, 2, ...).
class FrameParser {
 public:
  /// Decodes the next frame of `bytes` (which start at the current position). On Ok the caller
  /// consumes result.consumed bytes. A frame whose sequence is not the expected one is Invalid.
  /// A decoded frame carries the unmasked number.
  DecodeResult next(std::span<const uint8_t> bytes);
  uint64_t expectedSequence() const { return expectedSequence_; }
  /// The writer's mask for the frames that follow (see FrameWriter::setSequenceMask).
  void setSequenceMask(uint64_t mask) { sequenceMask_ = mask; }

 private:
  uint64_t expectedSequence_ = 0;
  uint64_t sequenceMask_ = 0;
};

}  // namespace ferry::proto
