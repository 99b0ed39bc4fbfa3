#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "carrier/dir/DirOptions.h"
#include "carrier/dir/Inotify.h"
#include "carrier/dir/SharedDir.h"
#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::dir {

/// Server side of the directory carrier: finds published sessions by listing DIR (the only
/// listing in the design: at start, on inotify events for DIR where they work, and every
/// kScanInterval), claims each with an exclusive create of <folder>/claim holding this
/// acceptor's random instance id, and hands a server-side DirCarrier to onCarrier. Several
/// acceptors, in any processes, may serve one DIR: each session is claimed once.
class DirAcceptor : public mux::CarrierAcceptor {
 public:
  /// Periodic scan; a remote DIR's listing may lag this much more (attribute caches).
  static constexpr io::Duration kScanInterval = std::chrono::milliseconds(500);
  /// Entries looked at per scan, so a DIR full of junk cannot stall the loop.
  static constexpr size_t kMaxEntriesPerScan = 4096;

  DirAcceptor(io::Loop& loop, DirOptions options);
  ~DirAcceptor() override;

  io::Result<void> start(OnCarrier onCarrier) override;
  void stop() override;

 private:
  void scan();
  void scheduleScan();
  void armScanTimer();
  /// Claims and serves `sid` if it is a valid, unclaimed session.
  void consider(const std::string& name, const std::string& sid);
  std::optional<std::string> readManifest(const std::string& name);
  enum class Claim { Won, Lost, Replayed };
  /// Replayed: an exclusive create failed on a local file system although the claim holds our
  /// id, so these are the files of a session this server already served, put back by someone.
  Claim claim(int folderFd);
  /// Removes a session's lane segments, claim, manifest and folder (cleanup only).
  void removeSessionFiles(int folderFd, const std::string& sid);
  /// Sessions claimed by other servers: removed once neither lane has changed for
  /// orphanTimeout() (both peers died before either could clean up).
  void checkForeignSessions(const std::unordered_set<std::string>& present);
  io::Duration orphanTimeout() const;
  void noteGarbage(const std::string& name, const char* why);

  io::Loop& loop_;
  DirOptions options_;
  std::string instanceId_;
  std::optional<SharedDir> dir_;
  OnCarrier onCarrier_;
  std::shared_ptr<Inotify> inotify_;
  Inotify::WatchId dirWatch_ = 0;
  io::Loop::TimerId scanTimer_ = 0;
  bool scanScheduled_ = false;
  std::unordered_set<std::string> handled_;  // session ids claimed here or elsewhere
  struct ForeignSession {
    uint64_t activity = 0;  // laneActivity() when last seen changing
    io::TimePoint changedAt;
  };
  std::unordered_map<std::string, ForeignSession> foreign_;  // claimed by another server
  io::TimePoint nextForeignCheck_{};
  std::unordered_set<std::string> garbage_;  // names already logged as ignored
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace ferry::carrier::dir
