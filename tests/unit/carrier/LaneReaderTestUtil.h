#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "DirTestUtil.h"
#include "carrier/dir/Inotify.h"
#include "carrier/dir/LaneReader.h"
#include "carrier/dir/Names.h"
#include "proto/Frame.h"

namespace ferry::carrier::dir {

inline constexpr auto kPrompt = std::chrono::milliseconds(500);

/// Bytes this process has read so far (rchar of /proc/self/io): counts every pread.
inline uint64_t bytesReadSoFar() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") {
      return value;
    }
  }
  return 0;
}

/// A LaneReader of lane 'c' in a temporary folder on /dev/shm, where a test writes the lane
/// files as a hostile (or reusing) writer would.
class HostileLaneTest : public ::testing::Test {
 protected:
  HostileLaneTest() : tmp_("/dev/shm"), folderFd_(::open(tmp_.path().c_str(), O_RDONLY)) {}

  std::string lanePath(uint64_t segment = 0) const {
    return tmp_.path() + "/" + Names::segment('c', segment);
  }

  /// A server-side reader of lane 'c' in the temporary folder; `reopen` polls with open + read
  /// + close per poll (the FUSE mode), else it is woken by inotify.
  std::unique_ptr<LaneReader> makeReader(bool reopen, io::Duration stuckTimeout) {
    LaneReader::Config config;
    config.folderFd = folderFd_.get();
    config.folderPath = tmp_.path();
    config.lane = 'c';
    config.sessionId = sid_;
    config.reopenReads = reopen;
    config.poll = reopen;
    config.pollMin = std::chrono::milliseconds(1);
    config.pollMax = std::chrono::milliseconds(50);
    config.stuckTimeout = stuckTimeout;
    config.firstSegmentExists = true;
    auto inotify = Inotify::forLoop(loop_);
    EXPECT_TRUE(inotify);
    LaneReader::Callbacks callbacks;
    callbacks.onFrame = [this](const proto::Frame& frame) {
      frames_++;
      payloads_.emplace_back(frame.payload.begin(), frame.payload.end());
      if (frameSeen_) {
        frameSeen_();
      }
    };
    callbacks.onSegmentAck = [](uint64_t) {};
    callbacks.onSegmentDone = [this](uint64_t segment) { done_.push_back(segment); };
    callbacks.onFailed = [this](const io::Error& error) {
      failure_ = error.message;
      failures_++;
    };
    callbacks.ownLaneStalled = [this] { return ownLaneStalled_; };
    return std::make_unique<LaneReader>(loop_, reopen ? nullptr : *inotify, config, callbacks);
  }

  testing::TempDir tmp_;
  io::Fd folderFd_;
  std::string sid_ = Names::randomId();
  io::Loop loop_;
  int frames_ = 0;
  std::function<void()> frameSeen_;  // also called for each frame delivered, when set
  std::vector<std::string> payloads_;
  std::vector<uint64_t> done_;
  bool ownLaneStalled_ = false;
  int failures_ = 0;
  std::string failure_;
};

}  // namespace ferry::carrier::dir
