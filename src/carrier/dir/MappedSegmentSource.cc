#include "carrier/dir/MappedSegmentSource.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "carrier/dir/SafeOpen.h"

namespace ferry::carrier::dir {

bool MappedSegmentSource::covers(const KeptMappings::Mapping& mapping, uint64_t at, uint64_t size) {
  uint64_t end = mapping.from + kWindow;
  return at >= mapping.from && at <= end && (end >= size || end - at >= kAhead);
}

io::Result<void> MappedSegmentSource::open(const std::string& name) {
  RegularFileFacts facts;
  auto opened = openRegularFile(folderFd_, name, 0, "lane segment", Freshness::Cached, &facts);
  if (!opened) {
    return std::unexpected(opened.error());
  }
  name_ = name;
  fd_ = std::move(*opened);
  device_ = facts.device;
  inode_ = facts.inode;
  unmappable_ = false;
  current_ = kept_.find(device_, inode_);
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
  KeptMappings::Mapping* mapping = mapForReading(at, size);
  if (mapping == nullptr) {
    unmappable_ = true;
    return std::nullopt;
  }
  mapping->idlePasses = 0;
  uint64_t end = std::min<uint64_t>(size, mapping->from + kWindow);
  return View{{mapping->bytes + (at - mapping->from), end - at}, end < size};
}

io::Result<void> MappedSegmentSource::intact() const {
  if (current_ != nullptr && current_->guard.faulted()) {
    return std::unexpected(io::Error{EIO, shrankMessage()});
  }
  return {};
}

void MappedSegmentSource::trimIdle() {
  kept_.dropIf([&](KeptMappings::Mapping& mapping) {
    return &mapping != current_ && ++mapping.idlePasses >= kIdlePasses;
  });
}

std::string MappedSegmentSource::shrankMessage() const {
  return "lane segment " + name_ + " shrank while being read (truncated by another writer of DIR?)";
}

io::Fd MappedSegmentSource::release() {
  current_ = nullptr;
  return std::move(fd_);
}

KeptMappings::Mapping* MappedSegmentSource::mapForReading(uint64_t at, uint64_t size) {
  if (current_ != nullptr && covers(*current_, at, size)) {
    return current_;
  }
  if (current_ != nullptr) {  // a window further on replaces it
    kept_.dropIf([&](const KeptMappings::Mapping& mapping) { return &mapping == current_; });
    current_ = nullptr;
  }
  static const auto kPage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t from = at - at % kPage;  // mmap offsets are page-aligned
  current_ = kept_.map(fd_.get(), device_, inode_, from, kWindow, PROT_READ);
  return current_;
}

}  // namespace ferry::carrier::dir
