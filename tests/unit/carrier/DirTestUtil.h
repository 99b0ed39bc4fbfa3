#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

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

}  // namespace ferry::carrier::dir::testing
