#include "carrier/dir/SharedDir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "carrier/dir/MountInfo.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "io/Log.h"

namespace ferry::carrier::dir {

namespace {

struct OpenedDir {
  io::Fd fd;
  SharedDir::Identity identity;
  FsClass fs;
};

/// Refuses DIR on a mount that uploads files only when they are closed (rclone, davfs2): ferry
/// keeps lane segments open while writing them, so the peer would wait for them forever.
io::Result<void> refuseUploadOnClose(const std::string& path, dev_t device) {
  std::optional<MountEntry> mount = findMount(device);
  std::optional<std::string> what = mount ? uploadsOnlyOnClose(*mount) : std::nullopt;
  if (!what) {
    return {};
  }
  return std::unexpected(io::Error{
      EOPNOTSUPP,
      "shared directory " + path + " is on " + *what + " (" + mount->type +
          "), which uploads a file only when it is closed: the other side would never see "
          "ferry's lane files grow. Such mounts are not supported yet; use a share that writes "
          "through (SMB, NFS, sshfs, a VM shared folder)"});
}

/// Opens the directory at `path`; with `expected`, it must still be that directory.
io::Result<OpenedDir> openDir(const std::string& path, const SharedDir::Identity* expected) {
  io::Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct stat info {};
  if (!fd || ::fstat(fd.get(), &info) != 0) {
    return std::unexpected(io::systemError("shared directory " + path));
  }
  FsClass fs = FsClass::of(fd.get());
  SharedDir::Identity identity{info.st_dev, info.st_ino, fs.magic};
  if (expected != nullptr && identity != *expected) {
    return std::unexpected(
        io::Error{ESTALE, "shared directory " + path +
                              " is no longer the directory ferry started on (device/inode changed: "
                              "unmounted or replaced? a share mounted again on purpose needs a "
                              "restart of ferry)"});
  }
  return OpenedDir{std::move(fd), identity, std::move(fs)};
}

/// Creates and removes a file of ferry's probe name in the directory `dirFd` (named `path`).
io::Result<void> createAndRemoveProbe(int dirFd, const std::string& path) {
  std::string probe = "ferry-probe-" + Names::randomId();
  io::Fd made(
      ::openat(dirFd, probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!made) {
    return std::unexpected(io::systemError("shared directory " + path + " is not writable"));
  }
  made.reset();
  if (!removeEntry(dirFd, probe.c_str())) {
    spdlog::warn("shared directory {}: removing the probe file {}: {}", path, probe,
                 std::strerror(errno));
  }
  return {};
}

}  // namespace

io::Result<SharedDir> SharedDir::open(const DirOptions& options, const Identity* expected) {
  const std::string& path = options.dir;
  if (path.empty()) {
    return std::unexpected(io::Error{EINVAL, "no shared directory given"});
  }
  // A reopen never recreates DIR: a missing DIR then means the share is gone.
  bool created = false;
  if (expected == nullptr) {
    if (::mkdir(path.c_str(), 0700) == 0) {
      created = true;
      spdlog::info("created shared directory {}", path);
    } else if (errno != EEXIST) {
      return std::unexpected(io::systemError("shared directory " + path + " cannot be created"));
    }
  }
  auto opened = openDir(path, expected);
  if (!opened) {
    return std::unexpected(opened.error());
  }
  if (expected == nullptr) {
    if (auto refused = refuseUploadOnClose(path, opened->identity.device); !refused) {
      if (created) {
        ::rmdir(path.c_str());  // leave the share as it was
      }
      return std::unexpected(refused.error());
    }
  }
  io::Fd& fd = opened->fd;
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
  if (auto probed = createAndRemoveProbe(fd.get(), path); !probed) {
    return std::unexpected(probed.error());
  }
  SharedDir dir{path, std::move(fd), std::move(opened->fs), false, opened->identity};
  dir.remote = !dir.fs.local || options.assumeRemote;
  return dir;
}

io::Result<io::Fd> SharedDir::openForListing() const {
  auto fresh = openDir(path, &identity);
  if (!fresh) {
    return std::unexpected(fresh.error());
  }
  if (remote) {
    refreshListingCache(fresh->fd.get());
  }
  return std::move(fresh->fd);
}

void SharedDir::refreshListingCache(int dirFd) const {
  // A client of a network or FUSE file system answers listings from a cache (sshfs: 20 s, NFS:
  // acdirmin) that a change of the directory made through the same mount invalidates: create and
  // remove a probe, so that the listing that follows shows what others published meanwhile.
  (void)createAndRemoveProbe(dirFd, path);  // failing, the listing is just older
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
  // Only tmpfs keeps small segments (see DirOptions::segmentSize). A directory on a local disk
  // file system is often the export of a share whose other side reads through SMB or NFS, where
  // each read is a round trip that ends at the segment's end.
  return remote || !fs.tmpfs() ? uint64_t{8} << 20 : uint64_t{1} << 20;
}

io::Fd SharedDir::dup() const {
  return io::Fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
}

}  // namespace ferry::carrier::dir
