#include "carrier/dir/SharedDir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "io/Log.h"

namespace ferry::carrier::dir {

io::Result<SharedDir> SharedDir::open(const DirOptions& options) {
  const std::string& path = options.dir;
  if (path.empty()) {
    return std::unexpected(io::Error{EINVAL, "no shared directory given"});
  }
  if (::mkdir(path.c_str(), 0700) == 0) {
    spdlog::info("created shared directory {}", path);
  } else if (errno != EEXIST) {
    return std::unexpected(io::systemError("shared directory " + path + " cannot be created"));
  }
  io::Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return std::unexpected(io::systemError("shared directory " + path));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) == 0 && (info.st_mode & S_IWOTH) && !(info.st_mode & S_ISVTX) &&
      !options.insecureDir) {
    return std::unexpected(io::Error{
        EPERM, "shared directory " + path +
                   " is writable by every user and has no sticky bit, so anyone could delete or "
                   "replace ferry's files: chmod o-w or +t it, or pass --insecure-dir"});
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return std::unexpected(io::systemError("shared directory " + path + " is not writable"));
  }
  // access() says yes to root and ignores read-only exports: try a real create.
  std::string probe = "ferry-probe-" + Names::randomId();
  int made =
      ::openat(fd.get(), probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (made < 0) {
    return std::unexpected(io::systemError("shared directory " + path + " is not writable"));
  }
  ::close(made);
  if (!removeEntry(fd.get(), probe.c_str())) {
    spdlog::warn("shared directory {}: removing the probe file {}: {}", path, probe,
                 std::strerror(errno));
  }
  SharedDir dir{path, std::move(fd), {}, false};
  dir.fs = FsClass::of(dir.fd.get());
  dir.remote = !dir.fs.local || options.assumeRemote;
  return dir;
}

io::Duration SharedDir::pollMin(const DirOptions& options) const {
  if (options.pollMin > io::Duration::zero()) {
    return options.pollMin;
  }
  // Each poll on a network or FUSE mount is an RPC to a shared server: not tighter than 1 ms.
  return remote ? io::Duration(std::chrono::milliseconds(1))
                : io::Duration(std::chrono::microseconds(100));
}

uint64_t SharedDir::segmentSize(const DirOptions& options) const {
  if (options.segmentSize > 0) {
    return options.segmentSize;
  }
  return remote ? uint64_t{8} << 20 : uint64_t{1} << 20;
}

io::Fd SharedDir::dup() const {
  return io::Fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
}

}  // namespace ferry::carrier::dir
