#include "carrier/dir/SegmentSource.h"

#include <unistd.h>

#include <cerrno>

#include "carrier/dir/DirectSegmentSource.h"
#include "carrier/dir/MappedSegmentSource.h"
#include "carrier/dir/ReopenSegmentSource.h"

namespace ferry::carrier::dir {

SegmentSourcePtr makeSegmentSource(int folderFd, bool remoteReads, bool reopenReads) {
  if (reopenReads) {
    return std::make_unique<ReopenSegmentSource>(folderFd);
  }
  if (remoteReads) {
    return std::make_unique<DirectSegmentSource>(folderFd);
  }
  return std::make_unique<MappedSegmentSource>(folderFd);
}

ssize_t preadRetrying(int fd, void* into, size_t size, uint64_t at) {
  ssize_t n;
  do {
    n = ::pread(fd, into, size, static_cast<off_t>(at));
  } while (n < 0 && errno == EINTR);
  return n;
}

io::Result<bool> readAppending(int fd, const std::string& name, uint64_t at, size_t size,
                               io::Buffer& buffer) {
  ssize_t n = preadRetrying(fd, buffer.prepareWrite(size), size, at);
  if (n < 0) {
    return std::unexpected(io::systemError("reading lane segment " + name));
  }
  buffer.commit(static_cast<size_t>(n));
  return n == static_cast<ssize_t>(size);
}

}  // namespace ferry::carrier::dir
