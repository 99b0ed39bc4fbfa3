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

  io::Buffer& batch() { return batch_; }
  const io::Buffer& batch() const { return batch_; }
  uint64_t nextSequence() const { return nextSequence_; }

 private:
  io::Buffer batch_;
  uint64_t nextSequence_ = 0;
};

/// Decodes a byte channel frame by frame and enforces the sequence rule (0, 1, 2, ...).
class FrameParser {
 public:
  /// Decodes the next frame of `bytes` (which start at the current position). On Ok the caller
  /// consumes result.consumed bytes. A frame whose sequence is not the expected one is Invalid.
  DecodeResult next(std::span<const uint8_t> bytes);
  uint64_t expectedSequence() const { return expectedSequence_; }

 private:
  uint64_t expectedSequence_ = 0;
};

}  // namespace ferry::proto
