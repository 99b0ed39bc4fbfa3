#include "carrier/dir/ReopenSegmentSource.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "carrier/dir/SafeOpen.h"

namespace ferry::carrier::dir {

io::Result<void> ReopenSegmentSource::open(const std::string& name) {
  // Only the existence matters here: each read opens the segment again.
  auto opened = openRegularFile(folderFd_, name, 0, "lane segment");
  if (!opened) {
    return std::unexpected(opened.error());
  }
  name_ = name;
  return {};
}

io::Result<bool> ReopenSegmentSource::read(uint64_t at, size_t size, io::Buffer& buffer) {
  auto opened = openRegularFile(folderFd_, name_, 0, "lane segment");
  if (!opened) {
    return std::unexpected(opened.error());
  }
  struct statx info {};
  ::statx(opened->get(), "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, STATX_SIZE, &info);
  // Each reopen costs a few FUSE round trips, so a busy lane grows its request up to
  // kMaxRequest (the reader adapts the size: an idle lane asks for little).
  return readAppending(opened->get(), name_, at, std::min(size, kMaxRequest), buffer);
}

}  // namespace ferry::carrier::dir
