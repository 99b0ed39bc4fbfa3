#include "carrier/dir/DirAcceptor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "carrier/dir/DirCarrier.h"
#include "carrier/dir/Manifest.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "carrier/dir/SafeOpen.h"
#include "carrier/dir/SessionFolder.h"
#include "io/Log.h"

namespace ferry::carrier::dir {

namespace {

// Bound on the names of junk this acceptor remembers having logged.
constexpr size_t kMaxLoggedGarbage = 4096;

}  // namespace

DirAcceptor::DirAcceptor(io::Loop& loop, DirOptions options)
    : loop_(loop),
      options_(std::move(options)),
      instanceId_(Names::randomId()),
      manifests_([this](const std::string& name) { noteGarbage(name, "not a valid manifest"); }) {}

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
  scanTimer_.cancel();
  stepTimer_.cancel();
  listing_.end();
  onCarrier_ = nullptr;
}

void DirAcceptor::resume() {
  paused_ = false;
  scheduleScan();
}

void DirAcceptor::armScanTimer() {
  scanTimer_.armAfter(kScanInterval, [this] {
    claimsLeft_ = kMaxClaimsPerInterval;
    scan();
    armScanTimer();
  });
}

void DirAcceptor::scheduleScan() {
  scanHook_.request();
}

void DirAcceptor::scan() {
  if (!dir_ || !onCarrier_) {
    return;
  }
  if (listing_.active()) {
    rescan_ = true;  // the pass in progress may have passed the new name already
    return;
  }
  if (beginPass()) {
    continuePass();
  }
}

bool DirAcceptor::beginPass() {
  io::TimePoint now = io::Clock::now();
  if (!onCarrier_ || now < nextListingAttempt_) {  // stopped, or DIR lost a moment ago
    return false;
  }
  auto fd = dir_->openForListing();
  if (!fd || !listing_.begin(std::move(*fd))) {
    noteDirLost(fd ? io::systemError("listing shared directory " + dir_->path) : fd.error());
    nextListingAttempt_ = now + retryDelay_;
    retryDelay_ = std::min<io::Duration>(2 * retryDelay_, kMaxRetryDelay);
    return false;
  }
  if (dirLost_) {
    spdlog::info("shared directory {} is back: serving it again", dir_->path);
    dirLost_ = false;
  }
  retryDelay_ = kScanInterval;
  rescan_ = false;
  pass_ = Pass{pass_.number + 1, {}, {}, {}};
  return true;
}

void DirAcceptor::noteDirLost(const io::Error& error) {
  if (!dirLost_) {  // once per episode, not once per attempt
    spdlog::warn("{}: not serving it until it is back (retrying, at most every {} s)",
                 error.message,
                 std::chrono::duration_cast<std::chrono::seconds>(kMaxRetryDelay).count());
    dirLost_ = true;
  }
}

void DirAcceptor::continuePass() {
  bool done = listing_.next(kEntriesPerStep,
                            [this](const char* entry, ino_t inode) { visit(entry, inode); });
  if (done && listing_.error() != 0) {
    // Not every entry was seen: concluding from this pass could forget live sessions.
    spdlog::warn("listing shared directory {}: {}", dir_->path, std::strerror(listing_.error()));
    return;
  }
  if (done) {
    finishPass();
    if (!rescan_) {
      return;
    }
    if (!beginPass()) {
      return;
    }
  }
  // Yield to the loop (a timer, unlike a deferred call, lets I/O run first), then go on.
  stepTimer_.armAfter(io::Duration::zero(), [this] { continuePass(); });
}

void DirAcceptor::visit(const char* entry, ino_t inode) {
  std::string name = entry;
  if (auto sid = Names::manifestSessionId(name)) {
    // Only ids this acceptor tracks are kept (the rest are in manifests_): junk costs no copy.
    bool taken = handled_.contains(*sid) || held(*sid);
    if (taken || orphans_.watching(*sid)) {
      pass_.manifests.insert(*sid);
    }
    if (taken) {
      return;
    }
    if (std::optional<int64_t> mtime =
            manifests_.check(dir_->fd.get(), name, inode, pass_.number)) {
      pass_.candidates.push_back(Candidate{*mtime, *sid});
    }
  } else if (auto folderSid = Names::folderSessionId(name)) {
    pass_.folders.insert(*folderSid);
  } else if (name != "." && name != ".." && !name.starts_with("ferry-")) {
    noteGarbage(name, "not a ferry name");
  }
}

void DirAcceptor::finishPass() {
  // A session whose manifest is gone is over: forget it, so the sets stay small.
  removeEndedSessions();
  std::erase_if(handled_, [&](const std::string& sid) {
    return !pass_.manifests.contains(sid) && !held(sid);
  });
  manifests_.finishPass(pass_.number);
  if (garbage_.size() > kMaxLoggedGarbage) {
    garbage_.clear();
  }
  orphans_.forgetAbsent([&](const std::string& sid) {
    return pass_.manifests.contains(sid) || pass_.folders.contains(sid);
  });
  trackOrphanFolders();
  claimCandidates();
  orphans_.sweep(dir_->fd.get(), dir_->path, orphanTimeout(),
                 [this](const std::string& sid) { return held(sid); });
}

void DirAcceptor::claimCandidates() {
  std::sort(pass_.candidates.begin(), pass_.candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.mtimeNs > b.mtimeNs; });
  for (const Candidate& candidate : pass_.candidates) {
    if (paused_ || claimsLeft_ == 0 || !onCarrier_) {
      return;  // the rest wait for a later pass
    }
    if (!handled_.contains(candidate.sid) && consider(candidate.sid)) {
      --claimsLeft_;
    }
  }
}

void DirAcceptor::trackOrphanFolders() {
  // A folder whose manifest is gone and that no server holds (a client died between removing
  // its manifest and its folder, or the manifest could not be read for a while) is an orphan
  // once its lanes stay silent: the OrphanSweeper removes it then.
  io::TimePoint now = io::Clock::now();
  for (const std::string& sid : pass_.folders) {
    bool manifestSeen =
        pass_.manifests.contains(sid) || manifests_.seen(Names::manifest(sid), pass_.number);
    if (!manifestSeen && !handled_.contains(sid) && !held(sid) && !orphans_.watching(sid) &&
        !orphans_.watch(sid, 0, now)) {
      return;  // full
    }
  }
}

void DirAcceptor::removeEndedSessions() {
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.expired()) {
      ended_.emplace(it->first, pass_.number);
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  // Only a pass that began after the session ended tells whether its manifest is still there.
  for (auto it = ended_.begin(); it != ended_.end();) {
    const std::string& sid = it->first;
    if (it->second == pass_.number) {
      ++it;
      continue;
    }
    if (pass_.manifests.contains(sid)) {
      spdlog::warn(
          "session {} in {}: it ended here, but its manifest is still in DIR (replayed, "
          "restored, or left by a client that is gone): removing its files",
          sid, dir_->path);
      SessionFolder::open(dir_->fd.get(), sid).removeAll(dir_->fd.get());
      pass_.manifests.erase(sid);
    }
    it = ended_.erase(it);
  }
}

bool DirAcceptor::held(const std::string& sid) const {
  auto it = held_.find(sid);
  return it != held_.end() && !it->second.expired();
}

void DirAcceptor::noteGarbage(const std::string& name, const char* why) {
  if (garbage_.insert(name).second) {
    spdlog::debug("shared directory {}: ignoring {}: {}", dir_->path, name, why);
  }
}

bool DirAcceptor::consider(const std::string& sid) {
  std::string name = Names::manifest(sid);
  io::Result<std::string> manifestSid = ManifestCache::read(dir_->fd.get(), name);
  if (!manifestSid || *manifestSid != sid) {
    // Until it changes: a manifest must not hold a claim slot every scan.
    manifests_.markInvalid(name, pass_.number);
    if (!manifestSid && manifestSid.error().code == EPROTONOSUPPORT) {
      if (garbage_.insert(name).second) {
        spdlog::warn("shared directory {}: not serving session {}: {}", dir_->path, sid,
                     manifestSid.error().message);
      }
      return false;
    }
    noteGarbage(name, "not a valid manifest");
    return false;
  }
  SessionFolder folder = SessionFolder::open(dir_->fd.get(), sid);
  if (!folder.isOpen()) {
    // A client creates its folder before it publishes the manifest, so this is junk too.
    manifests_.markInvalid(name, pass_.number);
    noteGarbage(name, "its session folder cannot be opened");
    return false;
  }
  handled_.insert(sid);
  SessionFolder::Claim claimed = folder.claim(instanceId_, dir_->remote);
  if (claimed == SessionFolder::Claim::Replayed) {
    spdlog::warn(
        "session {} in {}: its files hold this server's claim, so they belong to a "
        "session that already ended here and were put back (replayed or restored): "
        "removing them",
        sid, dir_->path);
    folder.removeAll(dir_->fd.get());
    return true;
  }
  if (claimed == SessionFolder::Claim::Lost) {
    orphans_.watch(sid, folder.laneActivity(), io::Clock::now());
    return true;
  }
  serve(std::move(folder));
  return true;
}

void DirAcceptor::serve(SessionFolder folder) {
  const std::string sid = folder.sessionId();
  auto writer = std::make_unique<LaneWriter>(
      loop_, LaneWriter::Config{folder.fd(), Names::kServerLane, sid, dir_->remote,
                                dir_->segmentSize(options_), options_.laneBudget, dir_->fs.fuse(),
                                dir_->mappedWrites()});
  if (auto opened = writer->open(); !opened) {
    onServerLaneFailed(folder, opened.error());
    return;
  }
  spdlog::info("claimed session {} in {}", sid, dir_->path);
  auto token = std::make_shared<int>(0);
  held_[sid] = token;
  DirCarrier::Parts parts;
  parts.role = mux::Role::Server;
  parts.sessionId = sid;
  parts.dirPath = dir_->path;
  parts.dirFd = dir_->dup();
  parts.folder = std::move(folder);
  parts.fs = dir_->fs;
  parts.remote = dir_->remote;
  parts.fuse = dir_->fs.fuse();
  parts.pollMin = dir_->pollMin(options_);
  parts.inotify = inotify_;
  parts.writer = std::move(writer);
  parts.heldToken = std::move(token);
  onCarrier_(std::make_unique<DirCarrier>(loop_, options_, std::move(parts)));
}

void DirAcceptor::onServerLaneFailed(const SessionFolder& folder, const io::Error& error) {
  const std::string& sid = folder.sessionId();
  if (error.code == EEXIST) {
    // Something else holds the server lane's name (a planted file or link): this session can
    // never be served, so it is given up once rather than claimed again every scan. (An NFSv3
    // create retransmitted after a lost reply can also say EEXIST; the client then publishes a
    // new session, which costs a reconnect, not a byte.)
    spdlog::warn("session {} in {}: {}: its server lane name is taken; removing the session", sid,
                 dir_->path, error.message);
    folder.removeAll(dir_->fd.get());
    return;
  }
  spdlog::warn("session {} in {}: {}", sid, dir_->path, error.message);
  folder.removeClaim();
  handled_.erase(sid);  // unclaimed again: a later scan retries it
}

io::Duration DirAcceptor::orphanTimeout() const {
  // Live peers write a heartbeat every second, so silence this long means both are gone. Remote
  // file systems cache attributes (sizes) for up to a minute: never less than that there.
  io::Duration timeout = 6 * options_.stuckTimeout;
  return dir_->remote ? std::max<io::Duration>(timeout, std::chrono::seconds(60)) : timeout;
}

}  // namespace ferry::carrier::dir
