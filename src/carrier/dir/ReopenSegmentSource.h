#pragma once

#include "carrier/dir/SegmentSource.h"

namespace ferry::carrier::dir {

/// FUSE file systems, and remote ones that refuse O_DIRECT: a held fd goes stale there (it keeps
/// showing the size and pages it saw first), so each read opens the segment afresh and forces an
/// attribute refresh (statx AT_STATX_FORCE_SYNC) before its pread, which is what revalidates the
/// FUSE and NFS caches. No fd is held between reads.
class ReopenSegmentSource : public SegmentSource {
 public:
  explicit ReopenSegmentSource(int folderFd) : folderFd_(folderFd) {}

  io::Result<void> open(const std::string& name) override;
  io::Result<bool> read(uint64_t at, size_t size, io::Buffer& buffer) override;
  io::Fd release() override { return {}; }

 private:
  int folderFd_;
  std::string name_;
};

}  // namespace ferry::carrier::dir
