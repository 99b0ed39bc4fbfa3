#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <limits>

#include "io/Fd.h"

namespace ferry::carrier::dir {

/// Calls `visit` with the name of each entry of the open directory `dirFd`, at most `maxEntries`
/// of them, from a new open of that directory (never from `dirFd` itself, see the .cc). Returns
/// false, with errno set, if the directory cannot be listed. For discovery and cleanup only: data
/// is never found by listing.
bool forEachEntry(int dirFd, const std::function<void(const char* name)>& visit,
                  size_t maxEntries = std::numeric_limits<size_t>::max());

/// One listing of a directory read a slice at a time, so that a directory of any size is listed
/// in full without holding the loop: begin() a pass, then next() until it returns true.
class FolderListing {
 public:
  FolderListing() = default;
  ~FolderListing();
  FolderListing(const FolderListing&) = delete;
  FolderListing& operator=(const FolderListing&) = delete;

  /// Starts a new pass over the directory open as `dirFd` (taken over), from its start. Returns
  /// false, with errno set, if it cannot be read.
  bool begin(io::Fd dirFd);
  /// Visits up to `maxEntries` more entries, with their inode numbers. True once the pass is
  /// over: it reached the end of the directory, or error() if reading it failed on the way.
  bool next(size_t maxEntries, const std::function<void(const char* name, ino_t inode)>& visit);
  /// A pass is in progress.
  bool active() const { return listing_ != nullptr; }
  /// The errno that ended the last pass early (it did not see every entry), or 0.
  int error() const { return error_; }
  void end();

 private:
  DIR* listing_ = nullptr;
  int error_ = 0;
};

}  // namespace ferry::carrier::dir
