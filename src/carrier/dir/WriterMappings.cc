#include "carrier/dir/WriterMappings.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>

namespace ferry::carrier::dir {

uint8_t* WriterMappings::mapFor(int fd, size_t capacity) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return nullptr;
  }
  if (auto* kept = kept_.find(info.st_dev, info.st_ino)) {
    return kept->bytes;
  }
  if (::fallocate(fd, 0, 0, static_cast<off_t>(capacity)) != 0) {
    return nullptr;
  }
  auto* mapping = kept_.map(fd, info.st_dev, info.st_ino, 0, capacity, PROT_READ | PROT_WRITE);
  return mapping != nullptr ? mapping->bytes : nullptr;
}

bool WriterMappings::faulted(const uint8_t* bytes) const {
  return kept_.any([&](const KeptMappings::Mapping& mapping) {
    return mapping.bytes == bytes && mapping.guard.faulted();
  });
}

void WriterMappings::dropFile(int folderFd, const char* name) {
  struct stat info {};
  if (kept_.size() == 0 || ::fstatat(folderFd, name, &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return;
  }
  kept_.dropIf([&](const KeptMappings::Mapping& mapping) {
    return mapping.device == info.st_dev && mapping.inode == info.st_ino;
  });
}

void WriterMappings::dropAllBut(std::initializer_list<const uint8_t*> keep) {
  kept_.dropIf([&](const KeptMappings::Mapping& mapping) {
    return std::find(keep.begin(), keep.end(), mapping.bytes) == keep.end();
  });
}

}  // namespace ferry::carrier::dir
