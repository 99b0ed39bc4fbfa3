#pragma once

#include <sys/types.h>

#include "carrier/dir/KeptMappings.h"
#include "carrier/dir/SegmentSource.h"

namespace ferry::carrier::dir {

/// Local file systems: the segment stays open and is mapped read-only, so that the reader parses
/// it in place. A pread copies every byte once more, and on a reused file also the stale bytes
/// past what the writer wrote this round (the reader cannot know where that is before parsing);
/// a mapping copies nothing and touches only the frames it parses. The page cache is coherent
/// there, and fstat gives the true size, which bounds what the reader may touch. Each mapping is
/// guarded (MapGuard): a file truncated under its reader ends the lane, not the process. Where a
/// segment cannot be mapped (KeptMappings::map refused) it is read with pread.
class MappedSegmentSource : public SegmentSource {
 public:
  explicit MappedSegmentSource(int folderFd) : folderFd_(folderFd) {}

  io::Result<void> open(const std::string& name) override;
  io::Result<bool> read(uint64_t at, size_t size, io::Buffer& buffer) override;
  io::Result<std::optional<View>> view(uint64_t at) override;
  io::Result<void> intact() const override;
  /// Drops kept mappings (not the open segment's) unused for kIdlePasses safety polls.
  void trimIdle() override;
  /// Gives up the open segment; its mapping is kept for the file's next round.
  io::Fd release() override;

 private:
  /// The same cap as a buffered read: a local read is a memory copy.
  static constexpr size_t kMaxBufferedRequest = 256 * 1024;
  /// A mapping covers this much of a file from a page at or below the read position: a
  /// segment's size is its writer's choice (--segment-size, up to 4 GiB), so the reader maps a
  /// window and moves it when the parse nears its end. Twice the largest default segment (8 MiB,
  /// a writer on a network or FUSE file system): one window holds all of such a segment and the
  /// frame that crosses its end, so a reused file is read through its one kept mapping. With
  /// 8 MiB windows, each round of each file was two mmaps and two munmaps.
  static constexpr size_t kWindow = 16 * 1024 * 1024;
  /// The longest frame (header and 1 MiB payload) and a page: a window is moved when less than
  /// this lies ahead of the read position, so a whole frame always fits.
  static constexpr size_t kAhead = (1 << 20) + 4096 + 64;
  /// Mappings kept: every file a writer with the default budget and segment size cycles through
  /// (64 segments of 1 MiB in flight or kept as spares, the current and the next one, and two
  /// more; a file beyond that costs an mmap and an munmap per round). A writer reuses its consumed
  /// segment files (renamed, then overwritten in place), so a kept mapping finds its pages mapped
  /// in the file's next round: without it, faulting pages in and unmapping them took about 13 % of
  /// a bulk reader's profile (the copy the mapping saves took 17 %). A kept mapping of a file its
  /// writer unlinked holds that file's pages until it is dropped: oldest first, and after
  /// kIdlePasses safety polls (250 ms by default) without use. A writer that finds the disk full
  /// unlinks its spares, and their space must come back while the lanes stand still (SHARES rule
  /// 11). The mappings of an idle reader are dropped, so kept ones count against the process
  /// budget (KeptMappings) only on busy lanes; where it runs out, segments are read with pread.
  static constexpr size_t kKeptMappings = 68;
  static constexpr int kIdlePasses = 5;

  /// Whether `mapping`'s window holds `at` and, ahead of it, a whole frame or the file's end.
  static bool covers(const KeptMappings::Mapping& mapping, uint64_t at, uint64_t size);
  /// The open segment's mapping, moved or made so that it covers `at`; null where the segment
  /// cannot be mapped.
  KeptMappings::Mapping* mapForReading(uint64_t at, uint64_t size);
  std::string shrankMessage() const;

  int folderFd_;
  std::string name_;
  io::Fd fd_;
  dev_t device_ = 0;  // of the open segment
  ino_t inode_ = 0;
  bool unmappable_ = false;                   // this segment is read with pread
  KeptMappings::Mapping* current_ = nullptr;  // the open segment's mapping, if any
  KeptMappings kept_{kKeptMappings};          // one window per file
};

}  // namespace ferry::carrier::dir
