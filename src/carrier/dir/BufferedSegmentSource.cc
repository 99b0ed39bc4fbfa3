#include "carrier/dir/BufferedSegmentSource.h"

#include <algorithm>

#include "carrier/dir/SafeOpen.h"

namespace ferry::carrier::dir {

io::Result<void> BufferedSegmentSource::open(const std::string& name) {
  auto opened = openRegularFile(folderFd_, name, 0, "lane segment");
  if (!opened) {
    return std::unexpected(opened.error());
  }
  name_ = name;
  fd_ = std::move(*opened);
  return {};
}

io::Result<bool> BufferedSegmentSource::read(uint64_t at, size_t size, io::Buffer& buffer) {
  return readAppending(fd_.get(), name_, at, std::min(size, kMaxBufferedRequest), buffer);
}

}  // namespace ferry::carrier::dir
