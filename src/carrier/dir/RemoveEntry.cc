#include "carrier/dir/RemoveEntry.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

namespace ferry::carrier::dir {

bool removeEntry(int dirFd, const char* name, int flags) {
  constexpr int kAttempts = 6;  // waits of 1, 2, 4, 8 and 16 ms between them
  std::chrono::milliseconds wait(1);
  for (int attempt = 1;; ++attempt) {
    if (::unlinkat(dirFd, name, flags) == 0) {
      return true;
    }
    if (errno != EBUSY || attempt == kAttempts) {
      return false;
    }
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
}

}  // namespace ferry::carrier::dir
