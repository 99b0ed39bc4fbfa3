#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mux/Carrier.h"

namespace ferry::test {

/// One frame as a test sees it: sent through a MemoryCarrierPair or delivered to a listener.
struct Frame {
  proto::FrameType type = proto::FrameType::Data;
  uint32_t stream = 0;
  std::vector<uint8_t> payload;

  std::string text() const { return {payload.begin(), payload.end()}; }
};

/// Copies everything a carrier hands to its listener.
class RecordingListener : public mux::CarrierListener {
 public:
  void onFrame(const proto::Frame& frame) override {
    frames.push_back(
        {frame.header.type, frame.header.stream, {frame.payload.begin(), frame.payload.end()}});
  }
  void onCarrierFailed(const io::Error& error) override { failures.push_back(error); }
  void onCarrierWritable() override { ++writable; }

  bool failed() const { return !failures.empty(); }
  /// The message of the first failure reported, or "".
  std::string failure() const { return failures.empty() ? "" : failures.front().message; }
  std::vector<proto::FrameType> types() const {
    std::vector<proto::FrameType> types;
    for (const Frame& frame : frames) {
      types.push_back(frame.type);
    }
    return types;
  }

  std::vector<Frame> frames;
  std::vector<io::Error> failures;
  int writable = 0;
};

inline std::span<const uint8_t> bytesOf(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace ferry::test
