#include "carrier/dir/DirectSegmentSource.h"

#include <fcntl.h>

#include <algorithm>

#include "carrier/dir/SafeOpen.h"
#include "io/Log.h"

namespace ferry::carrier::dir {

io::Result<void> DirectSegmentSource::open(const std::string& name) {
  if (refused_) {
    return fallback_.open(name);
  }
  auto opened = openRegularFile(folderFd_, name, O_DIRECT, "lane segment");
  if (!opened && opened.error().code == EINVAL) {
    spdlog::info("dir lane {}: O_DIRECT refused, reading with open + statx per poll", name);
    refused_ = true;
    return fallback_.open(name);
  }
  if (!opened) {
    return std::unexpected(opened.error());
  }
  name_ = name;
  fd_ = std::move(*opened);
  return {};
}

io::Result<bool> DirectSegmentSource::read(uint64_t at, size_t size, io::Buffer& buffer) {
  if (refused_) {
    return fallback_.read(at, size, buffer);
  }
  if (!aligned_) {
    aligned_.reset(static_cast<uint8_t*>(std::aligned_alloc(kAlign, kMaxRequest)));
  }
  uint64_t start = at & ~(kAlign - 1);
  size_t request = std::min<size_t>(
      (at - start + std::min(size, kMaxRequest) + kAlign - 1) & ~(kAlign - 1), kMaxRequest);
  ssize_t n = preadRetrying(fd_.get(), aligned_.get(), request, start);
  if (n < 0 && errno == EINVAL) {
    spdlog::info("dir lane {}: O_DIRECT read refused, reading with open + statx per poll", name_);
    refused_ = true;
    fd_.reset();
    if (auto reopened = fallback_.open(name_); !reopened) {
      return std::unexpected(reopened.error());
    }
    return fallback_.read(at, size, buffer);
  }
  if (n < 0) {
    return std::unexpected(io::systemError("reading lane segment " + name_));
  }
  uint64_t skip = at - start;
  if (static_cast<uint64_t>(n) > skip) {
    buffer.append(aligned_.get() + skip, static_cast<size_t>(n) - skip);
  }
  return n == static_cast<ssize_t>(request);
}

}  // namespace ferry::carrier::dir
