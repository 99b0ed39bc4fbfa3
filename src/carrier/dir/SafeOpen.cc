#include "carrier/dir/SafeOpen.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace ferry::carrier::dir {
namespace {

const char* fileTypeName(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFDIR:
      return "a directory";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
  }
  return "of an unknown type";
}

}  // namespace

io::Result<io::Fd> openRegularFile(int dirFd, const std::string& name, int flags,
                                   const std::string& what, Freshness freshness,
                                   RegularFileFacts* facts) {
  std::string described = what + " " + name;
  io::Fd fd(::openat(dirFd, name.c_str(),
                     O_RDONLY | flags | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
  if (!fd) {
    return std::unexpected(io::systemError("opening " + described));
  }
  int sync = freshness == Freshness::ForceSync ? AT_STATX_FORCE_SYNC : AT_STATX_SYNC_AS_STAT;
  struct statx info {};
  if (::statx(fd.get(), "", AT_EMPTY_PATH | sync, STATX_TYPE | STATX_SIZE | STATX_INO, &info) !=
      0) {
    return std::unexpected(io::systemError("checking " + described));
  }
  if (!S_ISREG(info.stx_mode)) {
    return std::unexpected(
        io::Error{0, described + " is " + fileTypeName(info.stx_mode) + ", not a regular file"});
  }
  if (facts != nullptr) {
    *facts = RegularFileFacts{makedev(info.stx_dev_major, info.stx_dev_minor), info.stx_ino,
                              info.stx_size};
  }
  // Local file systems ignore O_NONBLOCK on regular files, but a FUSE daemon is told the open
  // flags and may honour it with EAGAIN: reads block (briefly) as they did before the check.
  int status = ::fcntl(fd.get(), F_GETFL);
  if (status < 0 || ::fcntl(fd.get(), F_SETFL, status & ~O_NONBLOCK) != 0) {
    return std::unexpected(io::systemError("opening " + described));
  }
  return fd;
}

}  // namespace ferry::carrier::dir
