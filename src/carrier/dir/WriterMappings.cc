#include "carrier/dir/WriterMappings.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>

namespace ferry::carrier::dir {

WriterMappings::Mapping::~Mapping() {
  guard.unguard();
  ::munmap(bytes, size);
}

uint8_t* WriterMappings::mapFor(int fd, size_t capacity) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return nullptr;
  }
  auto found = std::find_if(kept_.begin(), kept_.end(), [&](const auto& mapping) {
    return mapping->device == info.st_dev && mapping->inode == info.st_ino;
  });
  if (found != kept_.end()) {
    std::rotate(kept_.begin(), found, found + 1);
    return kept_.front()->bytes;
  }
  if (::fallocate(fd, 0, 0, static_cast<off_t>(capacity)) != 0) {
    return nullptr;
  }
  void* bytes = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (bytes == MAP_FAILED) {
    return nullptr;
  }
  auto mapping = std::make_unique<Mapping>();
  mapping->bytes = static_cast<uint8_t*>(bytes);
  mapping->size = capacity;
  if (!mapping->guard.guard(bytes, capacity)) {
    return nullptr;  // ~Mapping unmaps it
  }
  mapping->device = info.st_dev;
  mapping->inode = info.st_ino;
  if (kept_.size() == kKept) {
    kept_.pop_back();
  }
  kept_.insert(kept_.begin(), std::move(mapping));
  return kept_.front()->bytes;
}

bool WriterMappings::faulted(const uint8_t* bytes) const {
  return std::any_of(kept_.begin(), kept_.end(), [&](const auto& mapping) {
    return mapping->bytes == bytes && mapping->guard.faulted();
  });
}

void WriterMappings::dropFile(int folderFd, const char* name) {
  struct stat info {};
  if (kept_.empty() || ::fstatat(folderFd, name, &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return;
  }
  std::erase_if(kept_, [&](const auto& mapping) {
    return mapping->device == info.st_dev && mapping->inode == info.st_ino;
  });
}

void WriterMappings::dropAllBut(std::initializer_list<const uint8_t*> keep) {
  std::erase_if(kept_, [&](const auto& mapping) {
    return std::find(keep.begin(), keep.end(), mapping->bytes) == keep.end();
  });
}

}  // namespace ferry::carrier::dir
