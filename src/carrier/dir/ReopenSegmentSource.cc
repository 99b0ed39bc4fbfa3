#include "carrier/dir/ReopenSegmentSource.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "carrier/dir/SafeOpen.h"

namespace ferry::carrier::dir {

namespace {

/// `request` bytes at `at`, or up to the file's end where that is at most a quarter more.
size_t withTail(uint64_t at, size_t request, uint64_t fileSize) {
  uint64_t end = at + request;
  return fileSize > end && fileSize - end <= request / 4 ? fileSize - at : request;
}

}  // namespace

io::Result<void> ReopenSegmentSource::open(const std::string& name) {
  RegularFileFacts facts;
  auto opened = openRegularFile(folderFd_, name, 0, "lane segment", Freshness::ForceSync, &facts);
  if (!opened) {
    return std::unexpected(opened.error());
  }
  name_ = name;
  fresh_ = std::move(*opened);
  freshSize_ = facts.size;
  return {};
}

io::Result<bool> ReopenSegmentSource::read(uint64_t at, size_t size, io::Buffer& buffer) {
  // Opened with a forced getattr, so the kernel's cached size is fresh: a read past it would
  // return nothing on FUSE. The first read of a segment uses the fd open() made.
  io::Fd fd = std::move(fresh_);
  RegularFileFacts facts{.size = freshSize_};
  if (!fd) {
    auto opened =
        openRegularFile(folderFd_, name_, 0, "lane segment", Freshness::ForceSync, &facts);
    if (!opened) {
      return std::unexpected(opened.error());
    }
    fd = std::move(*opened);
  }
  // Each reopen costs a few FUSE round trips, so a busy lane grows its request up to
  // kMaxRequest (the reader adapts the size: an idle lane asks for little).
  size_t request = withTail(at, std::min(size, kMaxRequest), facts.size);
  return readAppending(fd.get(), name_, at, request, buffer);
}

}  // namespace ferry::carrier::dir
