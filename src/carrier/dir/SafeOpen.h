#pragma once

#include <string>

#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::carrier::dir {

/// Opens an existing file of DIR that ferry reads (manifest, claim, lane segment) as `what name`
/// ("lane segment c-0000000000"), refusing anything but a regular file. Any writer of DIR can
/// plant a FIFO, device node or symlink under such a name: O_NONBLOCK keeps open() from blocking
/// on a FIFO, O_NOFOLLOW refuses a symlink (ELOOP), and fstat refuses the rest, with code 0 and a
/// message naming the file and its type. `flags` adds to O_RDONLY (e.g. O_DIRECT); the fd is
/// returned blocking again. A failed open keeps its errno in the error's code (ENOENT: absent).
io::Result<io::Fd> openRegularFile(int dirFd, const std::string& name, int flags,
                                   const std::string& what);

}  // namespace ferry::carrier::dir
