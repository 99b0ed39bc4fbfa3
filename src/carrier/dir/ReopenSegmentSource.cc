#include "carrier/dir/ReopenSegmentSource.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "carrier/dir/SafeOpen.h"

namespace ferry::carrier::dir {

io::Result<void> ReopenSegmentSource::open(const std::string& name) {
  auto opened = openRegularFile(folderFd_, name, 0, "lane segment", Freshness::ForceSync);
  if (!opened) {
    return std::unexpected(opened.error());
  }
  name_ = name;
  fresh_ = std::move(*opened);
  return {};
}

io::Result<bool> ReopenSegmentSource::read(uint64_t at, size_t size, io::Buffer& buffer) {
  // Opened with a forced getattr, so the kernel's cached size is fresh: a read past it would
  // return nothing on FUSE. The first read of a segment uses the fd open() made.
  io::Fd fd = std::move(fresh_);
  if (!fd) {
    auto opened = openRegularFile(folderFd_, name_, 0, "lane segment", Freshness::ForceSync);
    if (!opened) {
      return std::unexpected(opened.error());
    }
    fd = std::move(*opened);
  }
  // Each reopen costs a few FUSE round trips, so a busy lane grows its request up to
  // kMaxRequest (the reader adapts the size: an idle lane asks for little).
  return readAppending(fd.get(), name_, at, std::min(size, kMaxRequest), buffer);
}

}  // namespace ferry::carrier::dir
