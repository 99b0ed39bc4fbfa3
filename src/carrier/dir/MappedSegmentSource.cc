#include "carrier/dir/MappedSegmentSource.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "carrier/dir/SafeOpen.h"

namespace ferry::carrier::dir {

io::Result<void> MappedSegmentSource::open(const std::string& name) {
  auto opened = openRegularFile(folderFd_, name, 0, "lane segment");
  if (!opened) {
    return std::unexpected(opened.error());
  }
  unmap();
  unmappable_ = false;
  name_ = name;
  fd_ = std::move(*opened);
  return {};
}

io::Result<bool> MappedSegmentSource::read(uint64_t at, size_t size, io::Buffer& buffer) {
  return readAppending(fd_.get(), name_, at, std::min(size, kMaxBufferedRequest), buffer);
}

io::Result<std::optional<SegmentSource::View>> MappedSegmentSource::view(uint64_t at) {
  if (auto ok = intact(); !ok) {
    return std::unexpected(ok.error());
  }
  if (unmappable_) {
    return std::nullopt;
  }
  struct stat status {};
  if (::fstat(fd_.get(), &status) != 0) {
    return std::unexpected(io::systemError("reading lane segment " + name_));
  }
  auto size = static_cast<uint64_t>(status.st_size);
  if (at > size) {
    // Bytes the reader parsed are gone: a writer never shrinks a segment.
    return std::unexpected(io::Error{EIO, shrankMessage()});
  }
  uint64_t windowEnd = mappedFrom_ + kWindow;
  bool covered = mapping_ != nullptr && at >= mappedFrom_ && at <= windowEnd &&
                 (windowEnd >= size || windowEnd - at >= kAhead);
  if (!covered && !mapWindowAt(at)) {
    unmappable_ = true;
    return std::nullopt;
  }
  uint64_t end = std::min<uint64_t>(size, mappedFrom_ + kWindow);
  return View{{mapping_ + (at - mappedFrom_), end - at}, end < size};
}

io::Result<void> MappedSegmentSource::intact() const {
  if (guard_.faulted()) {
    return std::unexpected(io::Error{EIO, shrankMessage()});
  }
  return {};
}

std::string MappedSegmentSource::shrankMessage() const {
  return "lane segment " + name_ + " shrank while being read (truncated by another writer of DIR?)";
}

io::Fd MappedSegmentSource::release() {
  unmap();
  return std::move(fd_);
}

bool MappedSegmentSource::mapWindowAt(uint64_t at) {
  unmap();
  static const auto kPage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t from = at - at % kPage;  // mmap offsets are page-aligned
  void* mapping =
      ::mmap(nullptr, kWindow, PROT_READ, MAP_SHARED, fd_.get(), static_cast<off_t>(from));
  if (mapping == MAP_FAILED) {
    return false;
  }
  if (!guard_.guard(mapping, kWindow)) {
    ::munmap(mapping, kWindow);
    return false;
  }
  mapping_ = static_cast<const uint8_t*>(mapping);
  mappedFrom_ = from;
  return true;
}

void MappedSegmentSource::unmap() {
  if (mapping_ == nullptr) {
    return;
  }
  guard_.unguard();
  ::munmap(const_cast<uint8_t*>(mapping_), kWindow);
  mapping_ = nullptr;
  mappedFrom_ = 0;
}

}  // namespace ferry::carrier::dir
