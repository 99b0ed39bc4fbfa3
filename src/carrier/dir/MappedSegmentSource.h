#pragma once

#include "carrier/dir/MapGuard.h"
#include "carrier/dir/SegmentSource.h"

namespace ferry::carrier::dir {

/// Local file systems: the segment stays open and is mapped read-only, so that the reader parses
/// it in place. A pread copies every byte once more, and on a reused file also the stale bytes
/// past what the writer wrote this round (the reader cannot know where that is before parsing);
/// a mapping copies nothing and touches only the frames it parses. The page cache is coherent
/// there, and fstat gives the true size, which bounds what the reader may touch (a window of it at
/// a time). The mapping is
/// guarded (MapGuard): a file truncated under its reader ends the lane, not the process. Where a
/// segment cannot be mapped (mmap refused, or every guard slot taken) it is read with pread.
class MappedSegmentSource : public SegmentSource {
 public:
  explicit MappedSegmentSource(int folderFd) : folderFd_(folderFd) {}
  ~MappedSegmentSource() override { unmap(); }

  io::Result<void> open(const std::string& name) override;
  io::Result<bool> read(uint64_t at, size_t size, io::Buffer& buffer) override;
  io::Result<std::optional<View>> view(uint64_t at) override;
  io::Result<void> intact() const override;
  io::Fd release() override;

 private:
  /// The same cap as a buffered read: a local read is a memory copy.
  static constexpr size_t kMaxBufferedRequest = 256 * 1024;
  /// A view maps this much of the segment from the page holding the read position on: a
  /// segment's size is its writer's choice (--segment-size, up to 4 GiB), so the reader maps a
  /// window and moves it when the parse nears its end.
  static constexpr size_t kWindow = 8 * 1024 * 1024;
  /// The longest frame (header and 1 MiB payload) and a page: a window is moved when less than
  /// this lies ahead of the read position, so a whole frame always fits.
  static constexpr size_t kAhead = (1 << 20) + 4096 + 64;

  /// Maps the window for reading at `at`; false where the segment cannot be mapped.
  bool mapWindowAt(uint64_t at);
  void unmap();
  std::string shrankMessage() const;

  int folderFd_;
  std::string name_;
  io::Fd fd_;
  const uint8_t* mapping_ = nullptr;  // file offsets [mappedFrom_, mappedFrom_ + kWindow)
  uint64_t mappedFrom_ = 0;
  bool unmappable_ = false;  // this segment is read with pread
  MapGuard guard_;
};

}  // namespace ferry::carrier::dir
