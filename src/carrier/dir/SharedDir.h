#pragma once

#include <sys/types.h>

#include <string>

#include "carrier/dir/DirOptions.h"
#include "carrier/dir/FsClass.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::carrier::dir {

/// DIR, opened and checked once by a connector or acceptor.
struct SharedDir {
  /// Which directory DIR named when ferry started: if the path later names another one (the share
  /// was unmounted, leaving the empty mount point, or DIR was replaced), ferry must not work there.
  struct Identity {
    dev_t device = 0;
    ino_t inode = 0;
    uint64_t fsMagic = 0;
    bool operator==(const Identity&) const = default;
  };

  std::string path;
  io::Fd fd;
  FsClass fs;
  /// Remote behaviour (flush each batch, cache-bypassing reads, polling).
  bool remote = false;
  Identity identity;

  /// Opens DIR, creating it with mode 0700 when it is missing and its parent exists, and checks
  /// that it is a writable directory. With `expected` (a reopen), DIR is never created and must
  /// still be that directory. Errors name DIR.
  static io::Result<SharedDir> open(const DirOptions& options, const Identity* expected = nullptr);
  /// A fresh fd for listing DIR, after checking that its path still names the directory opened
  /// at start: a new open by path, since an open directory fd on remote and FUSE file systems
  /// never shows entries created after it was opened (measured on smbnetfs); on those, the
  /// listing cache is refreshed first (refreshListingCache).
  io::Result<io::Fd> openForListing() const;
  /// Makes the next listing of DIR (open as `dirFd`) current on a remote file system.
  void refreshListingCache(int dirFd) const;
  /// pollMin with its default resolved for this file system.
  io::Duration pollMin(const DirOptions& options) const;
  /// Lane writers copy into mappings of their segments (LaneWriter::Config::mappedWrites).
  bool mappedWrites() const { return !remote && fs.tmpfs(); }
  /// segmentSize with its default resolved for this file system.
  uint64_t segmentSize(const DirOptions& options) const;
  /// A new fd for the same directory, for a carrier that outlives its acceptor.
  io::Fd dup() const;
};

}  // namespace ferry::carrier::dir
