#include "carrier/dir/FolderListing.h"

#include <fcntl.h>

#include <cerrno>

namespace ferry::carrier::dir {

bool forEachEntry(int dirFd, const std::function<void(const char* name)>& visit,
                  size_t maxEntries) {
  // A fresh open of the folder, not a duplicate of `dirFd`: a FUSE daemon may answer every
  // listing of one open directory from the snapshot it took at opendir (smbnetfs does), so
  // entries created after `dirFd` was opened would never show.
  FolderListing listing;
  if (!listing.begin(io::Fd(::openat(dirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)))) {
    return false;
  }
  listing.next(maxEntries, [&visit](const char* name, ino_t) { visit(name); });
  return true;
}

FolderListing::~FolderListing() {
  end();
}

bool FolderListing::begin(io::Fd dirFd) {
  end();
  error_ = 0;
  listing_ = dirFd ? ::fdopendir(dirFd.get()) : nullptr;
  if (listing_ == nullptr) {
    return false;  // `dirFd` closes the fd
  }
  dirFd.release();        // owned by `listing_` now
  ::rewinddir(listing_);  // a duplicate shares the offset, which an earlier listing left at the end
  return true;
}

bool FolderListing::next(size_t maxEntries,
                         const std::function<void(const char* name, ino_t inode)>& visit) {
  for (size_t i = 0; i < maxEntries && listing_ != nullptr; ++i) {
    errno = 0;
    dirent* entry = ::readdir(listing_);
    if (entry == nullptr) {
      error_ = errno;
      end();
      return true;
    }
    visit(entry->d_name, entry->d_ino);
  }
  return listing_ == nullptr;
}

void FolderListing::end() {
  if (listing_ != nullptr) {
    ::closedir(listing_);
    listing_ = nullptr;
  }
}

}  // namespace ferry::carrier::dir
