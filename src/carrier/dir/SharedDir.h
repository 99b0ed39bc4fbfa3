#pragma once

#include <string>

#include "carrier/dir/DirOptions.h"
#include "carrier/dir/FsClass.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::carrier::dir {

/// DIR, opened and checked once by a connector or acceptor.
struct SharedDir {
  std::string path;
  io::Fd fd;
  FsClass fs;
  /// Remote behaviour (flush each batch, cache-bypassing reads, polling).
  bool remote = false;

  /// Opens DIR, creating it with mode 0700 when it is missing and its parent exists, and checks
  /// that it is a writable directory. Errors name DIR.
  static io::Result<SharedDir> open(const DirOptions& options);
  /// pollMin with its default resolved for this file system.
  io::Duration pollMin(const DirOptions& options) const;
  /// segmentSize with its default resolved for this file system.
  uint64_t segmentSize(const DirOptions& options) const;
  /// A new fd for the same directory, for a carrier that outlives its acceptor.
  io::Fd dup() const;
};

}  // namespace ferry::carrier::dir
