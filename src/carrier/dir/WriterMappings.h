#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "carrier/dir/KeptMappings.h"

namespace ferry::carrier::dir {

/// tmpfs only: shared, writable mappings of one lane writer's segment files, kept per file while
/// the writer cycles through them (LaneWriter::Config::mappedWrites). A frame batch copied into a
/// kept mapping skips what a pwrite costs per page (the page cache lookup, the page lock, the
/// size update): about 18 % of a bulk client's CPU. tmpfs has no writeback, so a written page
/// stays writable in the mapping; on a disk-backed file system each page would fault again after
/// every writeback, which is why other file systems keep pwrite. Each mapping is guarded
/// (MapGuard): a file truncated under it ends the lane, not the process. The mappings are kept
/// and counted as KeptMappings says.
class WriterMappings {
 public:
  WriterMappings() = default;
  WriterMappings(const WriterMappings&) = delete;
  WriterMappings& operator=(const WriterMappings&) = delete;

  /// The first `capacity` bytes of the file open (read-write) as `fd`, mapped. A file not mapped
  /// yet first gets its pages allocated (fallocate, which also sets its size), so that a store
  /// never meets a full file system (tmpfs would raise SIGBUS). Null where any of that fails (no
  /// space, or KeptMappings::map refused): the caller writes that file with pwrite.
  uint8_t* mapFor(int fd, size_t capacity);
  /// A store into the mapping at `bytes` met a page past its file's end (another writer
  /// truncated the file): what was written there is lost.
  bool faulted(const uint8_t* bytes) const;
  /// Drops every mapping except those of `keep` (null entries are ignored): the files they
  /// stood for were unlinked, or the lane is idle or closing.
  void dropAllBut(std::initializer_list<const uint8_t*> keep);
  /// Drops the mapping of the file `name` in the folder open as `folderFd`, if one is kept (the
  /// caller is about to unlink it).
  void dropFile(int folderFd, const char* name);

 private:
  /// A writer cycles through a lane budget's worth of files (64 of 1 MiB by default), its
  /// current and next segment, and a few created while spares were short.
  static constexpr size_t kKept = 72;

  KeptMappings kept_{kKept};
};

}  // namespace ferry::carrier::dir
