#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "io/Buffer.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::carrier::dir {

/// How a lane reader reads the segment files of one lane, chosen once per reader by the file
/// system (like redis ae's poller): a read-only mapping on local file systems, O_DIRECT on remote
/// ones (SHARES trap 2: the page cache and the cached file size lie there), and a fresh open +
/// statx(FORCE_SYNC) + pread per read where held fds go stale (FUSE, or O_DIRECT refused). A
/// segment is never trusted by its size (fstat) on a share: the reader reads until a read comes
/// back short. Only a local mapping uses fstat, to bound what it may touch (the page cache is the
/// file).
class SegmentSource {
 public:
  /// The largest read any source makes (the reader's adaptive read size stops there). Above the
  /// 1 MiB segments of a local writer plus their last frame and Rotate, so that a busy reader on a
  /// FUSE or network mount takes such a segment in one read (one reopen) rather than two.
  static constexpr size_t kMaxRequest = 2 * 1024 * 1024;

  virtual ~SegmentSource() = default;

  /// Opens segment `name` of the lane folder for the reads that follow. The error code is ENOENT
  /// while it does not exist; any other error (a planted FIFO or device) ends the lane.
  virtual io::Result<void> open(const std::string& name) = 0;
  /// One read of up to `size` bytes (less where the source caps it) at file offset `at`, appended
  /// to `buffer`. True when the read was not short, so more may follow. The error's message names
  /// the segment.
  virtual io::Result<bool> read(uint64_t at, size_t size, io::Buffer& buffer) = 0;
  /// Part of a mapped segment: `bytes` from the offset asked for, in place; `more` when the
  /// segment goes on past them (a view covers a window of the file, not all of it).
  struct View {
    std::span<const uint8_t> bytes;
    bool more = false;
  };
  /// Sources that map the segment: the bytes from file offset `at` towards the segment's current
  /// end, valid until the next view(), open() or release(). Empty (the default) where the
  /// segment is not mapped: the reader then uses read().
  virtual io::Result<std::optional<View>> view(uint64_t /*at*/) { return std::nullopt; }
  /// An error once the bytes last viewed can no longer be trusted (the file shrank under its
  /// mapping, and zeros stood in for the pages past its new end).
  virtual io::Result<void> intact() const { return {}; }
  /// Called on every safety poll (every pollMax): drops what the source keeps for later and has
  /// not used for a while. Default: nothing kept.
  virtual void trimIdle() {}
  /// Gives up the open segment (empty where the source holds no fd between reads), so that its
  /// reader closes it when it chooses (before acknowledging it).
  virtual io::Fd release() = 0;
};

using SegmentSourcePtr = std::unique_ptr<SegmentSource>;

/// The source for a lane folder open as `folderFd` (not owned): O_DIRECT reads if `remoteReads`,
/// a reopen per read if `reopenReads`, else a mapping.
SegmentSourcePtr makeSegmentSource(int folderFd, bool remoteReads, bool reopenReads);

/// pread(2) retried on EINTR.
ssize_t preadRetrying(int fd, void* into, size_t size, uint64_t at);
/// One pread of up to `size` bytes at `at` of segment `name` (open as `fd`) into the tail of
/// `buffer`: true when the read was not short. The error names the segment.
io::Result<bool> readAppending(int fd, const std::string& name, uint64_t at, size_t size,
                               io::Buffer& buffer);

}  // namespace ferry::carrier::dir
