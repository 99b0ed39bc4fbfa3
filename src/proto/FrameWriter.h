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

  /// The sequence field on the wire is the frame number XOR this mask (0 unless set). A
  /// directory lane changes it per segment file, at random, so that bytes left in a reused file
  /// from its earlier life can never pass for a current frame (docs/protocol.md).
  void setSequenceMask(uint64_t mask) { sequenceMask_ = mask; }

  io::Buffer& batch() { return batch_; }
  const io::Buffer& batch() const { return batch_; }
  uint64_t nextSequence() const { return nextSequence_; }

 private:
  io::Buffer batch_;
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
