#pragma once

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "io/Clock.h"
#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::dir::testing {

/// Records what a carrier reports.
struct FakeListener : mux::CarrierListener {
  struct Got {
    proto::FrameType type;
    uint32_t stream;
    std::string payload;
  };
  std::vector<Got> frames;
  std::string failure;
  int failures = 0;
  int writable = 0;

  void onFrame(const proto::Frame& frame) override {
    frames.push_back({frame.header.type, frame.header.stream,
                      std::string(frame.payload.begin(), frame.payload.end())});
  }
  void onCarrierFailed(const std::string& reason) override {
    failure = reason;
    failures++;
  }
  void onCarrierWritable() override { writable++; }
};

/// Runs the loop until `done` holds or `timeout` passes; returns done().
inline bool runUntil(io::Loop& loop, const std::function<bool()>& done,
                     io::Duration timeout = std::chrono::seconds(10)) {
  io::TimePoint deadline = io::Clock::now() + timeout;
  while (!done() && io::Clock::now() < deadline) {
    loop.runOnce(std::chrono::milliseconds(1));
  }
  return done();
}

/// A fresh directory under `base`, removed with its content at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& base) {
    std::string pattern = base + "/ferry-dirtest-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ignored);
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  /// Names of all entries below the directory, relative, sorted.
  std::vector<std::string> entries(const std::string& sub = "") const {
    std::vector<std::string> names;
    std::error_code ignored;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(path_ + "/" + sub, ignored)) {
      names.push_back(std::filesystem::relative(entry.path(), path_ + "/" + sub).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

inline std::span<const uint8_t> bytesOf(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace ferry::carrier::dir::testing
