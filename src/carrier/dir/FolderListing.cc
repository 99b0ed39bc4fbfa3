#include "carrier/dir/FolderListing.h"

#include <dirent.h>
#include <fcntl.h>

#include "io/Fd.h"

namespace ferry::carrier::dir {

bool forEachEntry(int dirFd, const std::function<void(const char* name)>& visit,
                  size_t maxEntries) {
  // A fresh open of the folder, not a duplicate of `dirFd`: a FUSE daemon may answer every
  // listing of one open directory from the snapshot it took at opendir (smbnetfs does), so
  // entries created after `dirFd` was opened would never show.
  io::Fd fresh(::openat(dirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* listing = fresh ? ::fdopendir(fresh.get()) : nullptr;
  if (listing == nullptr) {
    return false;  // `fresh` closes the fd
  }
  fresh.release();  // owned by `listing` now
  size_t entries = 0;
  while (dirent* entry = ::readdir(listing)) {
    if (++entries > maxEntries) {
      break;
    }
    visit(entry->d_name);
  }
  ::closedir(listing);
  return true;
}

}  // namespace ferry::carrier::dir
