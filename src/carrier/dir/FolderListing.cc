#include "carrier/dir/FolderListing.h"

#include <dirent.h>
#include <fcntl.h>

#include "io/Fd.h"

namespace ferry::carrier::dir {

bool forEachEntry(int dirFd, const std::function<void(const char* name)>& visit,
                  size_t maxEntries) {
  io::Fd copy(::fcntl(dirFd, F_DUPFD_CLOEXEC, 0));
  DIR* listing = copy ? ::fdopendir(copy.get()) : nullptr;
  if (listing == nullptr) {
    return false;  // `copy` closes the duplicate
  }
  copy.release();        // owned by `listing` now
  ::rewinddir(listing);  // a duplicate shares the offset, which an earlier listing left at the end
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
