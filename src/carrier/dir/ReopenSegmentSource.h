#pragma once

#include "carrier/dir/SegmentSource.h"

namespace ferry::carrier::dir {

/// FUSE file systems, and remote ones that refuse O_DIRECT: a held fd goes stale there (it keeps
/// showing the size and pages it saw first), so each read opens the segment afresh and forces an
/// attribute refresh (statx AT_STATX_FORCE_SYNC) before its pread, which is what revalidates the
/// FUSE and NFS caches. No fd is held between reads, except that the first read after open()
/// uses the fd open() made (it is just as fresh): one open and close fewer per segment, each a
/// round trip to the FUSE daemon. A read never crosses the segment's end, and a segment ends a
/// little past its nominal size (the frame that crossed it, then Rotate): a request that would
/// stop within a quarter of its own size before the file's end takes that tail too, instead of
/// leaving it to a round trip of its own.
class ReopenSegmentSource : public SegmentSource {
 public:
  explicit ReopenSegmentSource(int folderFd) : folderFd_(folderFd) {}

  io::Result<void> open(const std::string& name) override;
  io::Result<bool> read(uint64_t at, size_t size, io::Buffer& buffer) override;
  io::Fd release() override { return std::move(fresh_); }

 private:
  int folderFd_;
  std::string name_;
  io::Fd fresh_;            // opened by open(), used by the next read
  uint64_t freshSize_ = 0;  // the segment's size when open() opened fresh_
};

}  // namespace ferry::carrier::dir
