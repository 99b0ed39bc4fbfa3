#include "carrier/dir/DirConnector.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carrier/dir/DirCarrier.h"
#include "carrier/dir/Manifest.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "carrier/dir/SessionFolder.h"
#include "carrier/dir/SharedDir.h"
#include "io/Log.h"

namespace ferry::carrier::dir {
namespace {

/// Writes the manifest under its temporary name, flushes it where needed, and renames it onto
/// the final name: a server never sees a half-written manifest under the final name.
io::Result<void> publishManifest(const SharedDir& dir, const std::string& sid) {
  std::string temp = Names::tempManifest(sid);
  std::string text = Manifest::encode(sid);
  io::Fd fd(::openat(dir.fd.get(), temp.c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  bool ok =
      fd && ::pwrite(fd.get(), text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
  ok = ok && (!dir.remote || ::fdatasync(fd.get()) == 0);
  ok = ok && ::close(fd.release()) == 0;
  ok =
      ok && ::renameat(dir.fd.get(), temp.c_str(), dir.fd.get(), Names::manifest(sid).c_str()) == 0;
  if (!ok) {
    io::Error error = io::systemError("publishing a session in shared directory " + dir.path);
    removeEntry(dir.fd.get(), temp.c_str());
    return std::unexpected(error);
  }
  return {};
}

}  // namespace

DirConnector::DirConnector(io::Loop& loop, DirOptions options)
    : loop_(loop), options_(std::move(options)) {}

io::Result<mux::CarrierPtr> DirConnector::connect() {
  // After the first session, DIR must still be the directory it was then: publishing into the
  // empty mount point of an unmounted share would hang every connection.
  auto dir = SharedDir::open(options_, started_ ? &*started_ : nullptr);
  if (!dir) {
    return std::unexpected(dir.error());
  }
  if (!started_) {
    started_ = dir->identity;
    spdlog::info("shared directory {} is on {} ({})", dir->path, dir->fs.name,
                 dir->remote ? "remote: polling, flush per batch" : "local: inotify");
  }
  std::string sid = Names::randomId();
  auto folder = SessionFolder::create(dir->fd.get(), sid);
  if (!folder) {
    return std::unexpected(io::Error{
        folder.error().code, folder.error().message + " (shared directory " + dir->path + ")"});
  }
  auto writer = std::make_unique<LaneWriter>(
      loop_, LaneWriter::Config{folder->fd(), Names::kClientLane, sid, dir->remote,
                                dir->segmentSize(options_), options_.laneBudget, dir->fs.fuse(),
                                dir->mappedWrites()});
  io::Result<void> ready = writer->open();
  if (ready) {
    ready = publishManifest(*dir, sid);
  }
  if (!ready) {
    writer->close();
    folder->removeFolder(dir->fd.get());
    return std::unexpected(io::Error{
        ready.error().code, ready.error().message + " (shared directory " + dir->path + ")"});
  }
  std::shared_ptr<Inotify> inotify;
  if (!dir->remote && !options_.forcePoll) {
    auto shared = Inotify::forLoop(loop_);
    if (shared) {
      inotify = *shared;
    } else {
      spdlog::warn("{}; polling {} instead", shared.error().message, dir->path);
    }
  }
  DirCarrier::Parts parts;
  parts.role = mux::Role::Client;
  parts.sessionId = sid;
  parts.dirPath = dir->path;
  parts.folder = std::move(*folder);
  parts.fs = dir->fs;
  parts.remote = dir->remote;
  parts.fuse = dir->fs.fuse();
  parts.pollMin = dir->pollMin(options_);
  parts.inotify = std::move(inotify);
  parts.writer = std::move(writer);
  parts.dirFd = std::move(dir->fd);
  return std::make_unique<DirCarrier>(loop_, options_, std::move(parts));
}

}  // namespace ferry::carrier::dir
