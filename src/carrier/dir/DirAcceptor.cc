#include "carrier/dir/DirAcceptor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carrier/dir/DirCarrier.h"
#include "carrier/dir/FolderListing.h"
#include "carrier/dir/Manifest.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "carrier/dir/SafeOpen.h"
#include "io/Log.h"

namespace ferry::carrier::dir {

namespace {

/// Changes whenever either lane of a session grows or rotates: the sum of its segments' sizes
/// and numbers (a listing of the session folder, for cleanup only).
uint64_t laneActivity(int folderFd) {
  uint64_t activity = 0;
  forEachEntry(folderFd, [&](const char* entry) {
    std::string_view name = entry;
    struct stat info {};
    if ((Names::isSegment(name, Names::kClientLane) ||
         Names::isSegment(name, Names::kServerLane)) &&
        ::fstatat(folderFd, entry, &info, AT_SYMLINK_NOFOLLOW) == 0) {
      activity += static_cast<uint64_t>(info.st_size) + (std::hash<std::string_view>{}(name) << 1);
    }
  });
  return activity;
}

}  // namespace

DirAcceptor::DirAcceptor(io::Loop& loop, DirOptions options)
    : loop_(loop), options_(std::move(options)), instanceId_(Names::randomId()) {}

DirAcceptor::~DirAcceptor() {
  stop();
}

io::Result<void> DirAcceptor::start(OnCarrier onCarrier) {
  auto dir = SharedDir::open(options_);
  if (!dir) {
    return std::unexpected(dir.error());
  }
  dir_ = std::move(*dir);
  onCarrier_ = std::move(onCarrier);
  spdlog::info("serving shared directory {} on {} ({})", dir_->path, dir_->fs.name,
               dir_->remote ? "remote: polling, flush per batch" : "local: inotify");
  if (!dir_->remote && !options_.forcePoll) {
    auto shared = Inotify::forLoop(loop_);
    if (shared) {
      inotify_ = *shared;
      auto added = inotify_->add(dir_->path, IN_CREATE | IN_MOVED_TO,
                                 [this](uint32_t mask, std::string_view name) {
                                   if ((mask & IN_Q_OVERFLOW) || Names::manifestSessionId(name)) {
                                     scheduleScan();
                                   }
                                 });
      dirWatch_ = added ? *added : 0;
    }
  }
  scan();
  armScanTimer();
  return {};
}

void DirAcceptor::stop() {
  if (inotify_) {
    inotify_->remove(dirWatch_);
    dirWatch_ = 0;
  }
  if (scanTimer_ != 0) {
    loop_.cancelTimer(scanTimer_);
    scanTimer_ = 0;
  }
  onCarrier_ = nullptr;
}

void DirAcceptor::armScanTimer() {
  scanTimer_ = loop_.addTimerAfter(kScanInterval, [this] {
    scanTimer_ = 0;
    scan();
    armScanTimer();
  });
}

void DirAcceptor::scheduleScan() {
  if (scanScheduled_) {
    return;
  }
  scanScheduled_ = true;
  loop_.defer([this, alive = std::weak_ptr<int>(alive_)] {
    if (!alive.expired()) {
      scanScheduled_ = false;
      scan();
    }
  });
}

void DirAcceptor::scan() {
  if (!dir_ || !onCarrier_) {
    return;
  }
  std::unordered_set<std::string> present;
  bool listed = forEachEntry(
      dir_->fd.get(),
      [&](const char* entry) {
        std::string name = entry;
        if (auto sid = Names::manifestSessionId(name)) {
          present.insert(*sid);
          if (!handled_.contains(*sid)) {
            consider(name, *sid);
          }
        } else if (name != "." && name != ".." && !name.starts_with("ferry-")) {
          noteGarbage(name, "not a ferry name");
        }
      },
      kMaxEntriesPerScan);
  if (!listed) {
    spdlog::warn("listing shared directory {}: {}", dir_->path, std::strerror(errno));
    return;
  }
  // A session whose manifest is gone is over: forget it, so the sets stay small.
  std::erase_if(handled_, [&](const std::string& sid) { return !present.contains(sid); });
  std::erase_if(foreign_, [&](const auto& entry) { return !present.contains(entry.first); });
  // Orphans need only the resolution of their timeout, not a listing per scan.
  io::TimePoint now = io::Clock::now();
  if (now >= nextForeignCheck_) {
    checkForeignSessions(present);
    nextForeignCheck_ = now + orphanTimeout() / 4;
  }
  if (garbage_.size() > kMaxEntriesPerScan) {
    garbage_.clear();
  }
}

void DirAcceptor::noteGarbage(const std::string& name, const char* why) {
  if (garbage_.insert(name).second) {
    spdlog::debug("shared directory {}: ignoring {}: {}", dir_->path, name, why);
  }
}

std::optional<std::string> DirAcceptor::readManifest(const std::string& name) {
  auto fd = openRegularFile(dir_->fd.get(), name, 0, "manifest");
  if (!fd) {
    return std::nullopt;
  }
  char text[Manifest::kMaxSize + 1];
  ssize_t n = ::pread(fd->get(), text, sizeof text, 0);
  if (n <= 0 || static_cast<size_t>(n) > Manifest::kMaxSize) {
    return std::nullopt;
  }
  return Manifest::parse(std::string_view(text, static_cast<size_t>(n)));
}

void DirAcceptor::consider(const std::string& name, const std::string& sid) {
  std::optional<std::string> manifestSid = readManifest(name);
  if (!manifestSid || *manifestSid != sid) {
    noteGarbage(name, "not a valid manifest");  // looked at again next scan, logged once
    return;
  }
  std::string folder = Names::folder(sid);
  io::Fd folderFd(
      ::openat(dir_->fd.get(), folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!folderFd) {
    noteGarbage(name, "its session folder cannot be opened");
    return;
  }
  handled_.insert(sid);
  Claim claimed = claim(folderFd.get());
  if (claimed == Claim::Replayed) {
    spdlog::warn(
        "session {} in {}: its files hold this server's claim, so they belong to a "
        "session that already ended here and were put back (replayed or restored): "
        "removing them",
        sid, dir_->path);
    removeSessionFiles(folderFd.get(), sid);
    return;
  }
  if (claimed == Claim::Lost) {
    foreign_[sid] = ForeignSession{laneActivity(folderFd.get()), io::Clock::now()};
    return;
  }
  auto writer = std::make_unique<LaneWriter>(
      loop_, LaneWriter::Config{folderFd.get(), Names::kServerLane, sid, dir_->remote,
                                dir_->segmentSize(options_), options_.laneBudget});
  if (auto opened = writer->open(); !opened) {
    spdlog::warn("session {} in {}: {}", sid, dir_->path, opened.error().message);
    removeEntry(folderFd.get(), std::string(Names::kClaim).c_str());
    handled_.erase(sid);  // unclaimed again: a later scan retries it
    return;
  }
  spdlog::info("claimed session {} in {}", sid, dir_->path);
  DirCarrier::Parts parts;
  parts.role = DirCarrier::Role::Server;
  parts.sessionId = sid;
  parts.dirPath = dir_->path;
  parts.dirFd = dir_->dup();
  parts.folderFd = std::move(folderFd);
  parts.fs = dir_->fs;
  parts.remote = dir_->remote;
  parts.fuse = dir_->fs.fuse();
  parts.pollMin = dir_->pollMin(options_);
  parts.inotify = inotify_;
  parts.writer = std::move(writer);
  onCarrier_(std::make_unique<DirCarrier>(loop_, options_, std::move(parts)));
}

io::Duration DirAcceptor::orphanTimeout() const {
  // Live peers write a heartbeat every second, so silence this long means both are gone. Remote
  // file systems cache attributes (sizes) for up to a minute: never less than that there.
  io::Duration timeout = 6 * options_.stuckTimeout;
  return dir_->remote ? std::max<io::Duration>(timeout, std::chrono::seconds(60)) : timeout;
}

void DirAcceptor::checkForeignSessions(const std::unordered_set<std::string>& present) {
  io::TimePoint now = io::Clock::now();
  for (auto it = foreign_.begin(); it != foreign_.end();) {
    const std::string& sid = it->first;
    io::Fd folderFd(::openat(dir_->fd.get(), Names::folder(sid).c_str(),
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    uint64_t activity = folderFd ? laneActivity(folderFd.get()) : 0;
    if (!folderFd || activity != it->second.activity) {
      it->second = ForeignSession{activity, now};
    } else if (present.contains(sid) && now - it->second.changedAt >= orphanTimeout()) {
      spdlog::warn(
          "session {} in {}: claimed by another server, but neither side has written for {} s "
          "(both died before cleaning up): removing its files",
          sid, dir_->path,
          std::chrono::duration_cast<std::chrono::seconds>(now - it->second.changedAt).count());
      removeSessionFiles(folderFd.get(), sid);
      it = foreign_.erase(it);
      continue;
    }
    ++it;
  }
}

DirAcceptor::Claim DirAcceptor::claim(int folderFd) {
  std::string mine = instanceId_ + "\n";
  const char* claimName = Names::kClaim.data();
  io::Fd fd(
      ::openat(folderFd, claimName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd && ::pwrite(fd.get(), mine.data(), mine.size(), 0) == static_cast<ssize_t>(mine.size()) &&
      (!dir_->remote || ::fdatasync(fd.get()) == 0)) {
    return Claim::Won;
  }
  bool existed = !fd && errno == EEXIST;
  // EEXIST or any error: a retransmitted create can report EEXIST for our own success, so the
  // claim's content decides. Empty means another server has not written its id yet.
  auto existing = openRegularFile(folderFd, claimName, 0, "claim");
  char text[64] = {};
  ssize_t n = existing ? ::pread(existing->get(), text, sizeof text, 0) : -1;
  if (n != static_cast<ssize_t>(mine.size()) || std::string_view(text, n) != mine) {
    return Claim::Lost;
  }
  return existed && !dir_->remote ? Claim::Replayed : Claim::Won;
}

void DirAcceptor::removeSessionFiles(int folderFd, const std::string& sid) {
  removeEntry(dir_->fd.get(), Names::manifest(sid).c_str());
  forEachEntry(folderFd, [folderFd](const char* entry) {
    std::string_view name = entry;
    if (Names::isSegment(name, Names::kClientLane) || Names::isSegment(name, Names::kServerLane) ||
        name == Names::kClaim) {
      removeEntry(folderFd, entry);
    }
  });
  removeEntry(dir_->fd.get(), Names::folder(sid).c_str(), AT_REMOVEDIR);  // fails if not empty
}

}  // namespace ferry::carrier::dir
