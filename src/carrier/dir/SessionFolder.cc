#include "carrier/dir/SessionFolder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "carrier/dir/FolderListing.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "carrier/dir/SafeOpen.h"
#include "io/Log.h"

namespace ferry::carrier::dir {
namespace {

io::Fd openFolder(int dirFd, const std::string& name) {
  return io::Fd(::openat(dirFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

bool isLaneSegment(std::string_view name) {
  return Names::isSegment(name, Names::kClientLane) || Names::isSegment(name, Names::kServerLane);
}

}  // namespace

io::Result<SessionFolder> SessionFolder::create(int dirFd, std::string sid) {
  std::string name = Names::folder(sid);
  if (::mkdirat(dirFd, name.c_str(), 0700) != 0) {
    return std::unexpected(io::systemError("creating session folder " + name));
  }
  io::Fd fd = openFolder(dirFd, name);
  if (!fd) {
    io::Error error = io::systemError("opening " + name);
    removeEntry(dirFd, name.c_str(), AT_REMOVEDIR);
    return std::unexpected(error);
  }
  return SessionFolder(std::move(sid), std::move(fd));
}

SessionFolder SessionFolder::open(int dirFd, std::string sid) {
  io::Fd fd = openFolder(dirFd, Names::folder(sid));
  return SessionFolder(std::move(sid), std::move(fd));
}

std::string SessionFolder::name() const {
  return Names::folder(sid_);
}

SessionFolder::Claim SessionFolder::claim(const std::string& instanceId, bool remote) const {
  std::string mine = instanceId + "\n";
  const char* claimName = Names::kClaim.data();
  io::Fd fd(
      ::openat(fd_.get(), claimName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd && ::pwrite(fd.get(), mine.data(), mine.size(), 0) == static_cast<ssize_t>(mine.size()) &&
      (!remote || ::fdatasync(fd.get()) == 0)) {
    return Claim::Won;
  }
  bool existed = !fd && errno == EEXIST;
  // EEXIST or any error: a retransmitted create can report EEXIST for our own success, so the
  // claim's content decides. Empty means another server has not written its id yet.
  auto existing = openRegularFile(fd_.get(), claimName, 0, "claim");
  char text[64] = {};
  ssize_t n = existing ? ::pread(existing->get(), text, sizeof text, 0) : -1;
  if (n != static_cast<ssize_t>(mine.size()) || std::string_view(text, n) != mine) {
    return Claim::Lost;
  }
  return existed && !remote ? Claim::Replayed : Claim::Won;
}

bool SessionFolder::claimed() const {
  return ::faccessat(fd_.get(), Names::kClaim.data(), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

uint64_t SessionFolder::laneActivity() const {
  // A sum over the segments' sizes, modification times and names. The mtime is only compared
  // with its own earlier value (never with a clock): a reused segment is overwritten in place,
  // so a live lane that only carries heartbeats does not grow for hours.
  uint64_t activity = 0;
  int folderFd = fd_.get();
  forEachEntry(folderFd, [&](const char* entry) {
    std::string_view name = entry;
    struct stat info {};
    if (isLaneSegment(name) && ::fstatat(folderFd, entry, &info, AT_SYMLINK_NOFOLLOW) == 0) {
      activity += static_cast<uint64_t>(info.st_size) + (std::hash<std::string_view>{}(name) << 1) +
                  static_cast<uint64_t>(info.st_mtim.tv_sec) * 1000000007u +
                  static_cast<uint64_t>(info.st_mtim.tv_nsec);
    }
  });
  return activity;
}

bool SessionFolder::movedFrom(int dirFd) const {
  // Our fds keep working in a renamed folder, but the peer, cleanup and inotify use the name.
  struct stat byName {};
  struct stat held {};
  if (::fstat(fd_.get(), &held) != 0) {
    return false;
  }
  if (::fstatat(dirFd, name().c_str(), &byName, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT;
  }
  return byName.st_dev != held.st_dev || byName.st_ino != held.st_ino;
}

void SessionFolder::removeManifest(int dirFd) const {
  removeEntry(dirFd, Names::manifest(sid_).c_str());
}

void SessionFolder::removeClaim() const {
  removeEntry(fd_.get(), Names::kClaim.data());
}

template <typename Pred>
void SessionFolder::removeEntries(Pred remove) const {
  int folderFd = fd_.get();
  forEachEntry(folderFd, [folderFd, &remove](const char* entry) {
    if (remove(std::string_view(entry))) {
      removeEntry(folderFd, entry);
    }
  });
}

void SessionFolder::removeLane(char lane) const {
  removeEntries([lane](std::string_view name) { return Names::isSegment(name, lane); });
}

void SessionFolder::removeFolder(int dirFd) const {
  // ENOTEMPTY (the peer's files, or .nfs*/.fuse_hidden* of files still open), ENOENT, EBUSY
  // and ESTALE are all normal here: whoever leaves last removes the folder.
  std::string folder = name();
  if (!removeEntry(dirFd, folder.c_str(), AT_REMOVEDIR) && errno != ENOTEMPTY && errno != ENOENT &&
      errno != EBUSY && errno != ESTALE) {
    spdlog::debug("dir session {}: removing {}: {}", sid_, folder, std::strerror(errno));
  }
}

void SessionFolder::removeAll(int dirFd) const {
  removeManifest(dirFd);
  removeEntries([](std::string_view name) { return isLaneSegment(name) || name == Names::kClaim; });
  removeFolder(dirFd);
}

}  // namespace ferry::carrier::dir
