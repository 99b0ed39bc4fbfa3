#pragma once

#include <cstdlib>
#include <memory>

#include "carrier/dir/ReopenSegmentSource.h"

namespace ferry::carrier::dir {

/// Remote file systems: O_DIRECT reads from an aligned offset into an aligned buffer bypass the
/// page cache and, on FUSE and NFS, the cached file size (SHARES trap 2). Where the file system
/// refuses O_DIRECT (EINVAL at open or at the first read) it falls back to reopen-per-read reads
/// for good.
class DirectSegmentSource : public SegmentSource {
 public:
  explicit DirectSegmentSource(int folderFd) : folderFd_(folderFd), fallback_(folderFd) {}

  io::Result<void> open(const std::string& name) override;
  io::Result<bool> read(uint64_t at, size_t size, io::Buffer& buffer) override;
  io::Fd release() override { return refused_ ? fallback_.release() : std::move(fd_); }

 private:
  static constexpr uint64_t kAlign = 4096;  // O_DIRECT offset and buffer alignment

  int folderFd_;
  std::string name_;
  io::Fd fd_;
  std::unique_ptr<uint8_t, void (*)(void*)> aligned_{nullptr, free};
  bool refused_ = false;  // O_DIRECT was refused: every call goes to fallback_
  ReopenSegmentSource fallback_;
};

}  // namespace ferry::carrier::dir
