#pragma once

#include "carrier/dir/SegmentSource.h"

namespace ferry::carrier::dir {

/// Local file systems: the segment stays open and is read with pread through the page cache,
/// which is coherent there.
class BufferedSegmentSource : public SegmentSource {
 public:
  explicit BufferedSegmentSource(int folderFd) : folderFd_(folderFd) {}

  io::Result<void> open(const std::string& name) override;
  io::Result<bool> read(uint64_t at, size_t size, io::Buffer& buffer) override;
  io::Fd release() override { return std::move(fd_); }

 private:
  /// A local read is a memory copy: larger requests only copy more stale bytes of a reused file.
  static constexpr size_t kMaxBufferedRequest = 256 * 1024;

  int folderFd_;
  std::string name_;
  io::Fd fd_;
};

}  // namespace ferry::carrier::dir
