#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "io/Fd.h"
#include "support/RecordingListener.h"
#include "support/RunUntil.h"

namespace ferry::carrier::dir::testing {

using ferry::test::bytesOf;
using ferry::test::runUntil;

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

/// What a read(2) into `room` from a pipe holding 4 bytes did, as a stream's socket read into a
/// reserved frame would: the result, and errno when it failed.
struct PipeReadResult {
  ssize_t result = 0;
  int error = 0;
};

inline PipeReadResult readFromAPipeInto(std::span<uint8_t> room) {
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
    return {-1, EMFILE};  // nothing was read into the room, and the test says so
  }
  io::Fd readEnd(pipeFds[0]);
  io::Fd writeEnd(pipeFds[1]);  // both ends closed on every path
  if (::write(writeEnd.get(), "data", 4) != 4) {
    return {-1, EPIPE};
  }
  PipeReadResult outcome{::read(readEnd.get(), room.data(), room.size()), 0};
  outcome.error = outcome.result < 0 ? errno : 0;
  return outcome;
}

}  // namespace ferry::carrier::dir::testing
