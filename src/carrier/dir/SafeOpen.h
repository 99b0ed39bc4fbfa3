#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::carrier::dir {

/// Opens an existing file of DIR that ferry reads (manifest, claim, lane segment) as `what name`
/// ("lane segment c-0000000000"), refusing anything but a regular file. Any writer of DIR can
/// plant a FIFO, device node or symlink under such a name: O_NONBLOCK keeps open() from blocking
/// on a FIFO, O_NOFOLLOW refuses a symlink (ELOOP), and the type check (one statx) refuses the
/// rest, with code 0 and a message naming the file and its type. `flags` adds to O_RDONLY (e.g.
/// O_DIRECT); the fd is returned blocking again. A failed open keeps its errno in the error's code
/// (ENOENT: absent). `facts`, when given, receives what the check found.
///
/// Freshness::ForceSync makes the check statx(AT_STATX_FORCE_SYNC): on FUSE that is the getattr
/// round trip that refreshes the kernel's cached size, which a reopening lane read needs anyway,
/// so the check and the refresh are one round trip instead of two.
enum class Freshness { Cached, ForceSync };
struct RegularFileFacts {
  dev_t device = 0;
  ino_t inode = 0;
  uint64_t size = 0;  // as the check saw it: fresh with Freshness::ForceSync
};
io::Result<io::Fd> openRegularFile(int dirFd, const std::string& name, int flags,
                                   const std::string& what, Freshness freshness = Freshness::Cached,
                                   RegularFileFacts* facts = nullptr);

}  // namespace ferry::carrier::dir
