#include "carrier/dir/MappedSegmentSource.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "carrier/dir/SafeOpen.h"

namespace ferry::carrier::dir {

MappedSegmentSource::Mapping::~Mapping() {
  guard.unguard();
  ::munmap(const_cast<uint8_t*>(bytes), kWindow);
}

bool MappedSegmentSource::Mapping::covers(uint64_t at, uint64_t size) const {
  uint64_t end = from + kWindow;
  return at >= from && at <= end && (end >= size || end - at >= kAhead);
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
  current_ = keptMapping();
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
  Mapping* mapping = mapForReading(at, size);
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
  std::erase_if(kept_, [&](const std::unique_ptr<Mapping>& mapping) {
    return mapping.get() != current_ && ++mapping->idlePasses >= kIdlePasses;
  });
}

std::string MappedSegmentSource::shrankMessage() const {
  return "lane segment " + name_ + " shrank while being read (truncated by another writer of DIR?)";
}

io::Fd MappedSegmentSource::release() {
  current_ = nullptr;
  return std::move(fd_);
}

MappedSegmentSource::Mapping* MappedSegmentSource::keptMapping() {
  auto found = std::find_if(kept_.begin(), kept_.end(), [&](const auto& mapping) {
    return mapping->device == device_ && mapping->inode == inode_;
  });
  if (found == kept_.end()) {
    return nullptr;
  }
  std::rotate(kept_.begin(), found, found + 1);
  return kept_.front().get();
}

MappedSegmentSource::Mapping* MappedSegmentSource::mapForReading(uint64_t at, uint64_t size) {
  if (current_ != nullptr && current_->covers(at, size)) {
    return current_;
  }
  if (current_ != nullptr) {  // a window further on replaces it
    std::erase_if(kept_, [&](const auto& mapping) { return mapping.get() == current_; });
    current_ = nullptr;
  }
  static const auto kPage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t from = at - at % kPage;  // mmap offsets are page-aligned
  void* bytes =
      ::mmap(nullptr, kWindow, PROT_READ, MAP_SHARED, fd_.get(), static_cast<off_t>(from));
  if (bytes == MAP_FAILED) {
    return nullptr;
  }
  auto mapping = std::make_unique<Mapping>();
  mapping->bytes = static_cast<const uint8_t*>(bytes);
  if (!mapping->guard.guard(bytes, kWindow)) {
    return nullptr;  // ~Mapping unmaps it
  }
  mapping->device = device_;
  mapping->inode = inode_;
  mapping->from = from;
  if (kept_.size() == kKeptMappings) {
    kept_.pop_back();
  }
  kept_.insert(kept_.begin(), std::move(mapping));
  current_ = kept_.front().get();
  return current_;
}

}  // namespace ferry::carrier::dir
