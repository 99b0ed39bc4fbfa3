#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "carrier/dir/DirOptions.h"
#include "carrier/dir/FolderListing.h"
#include "carrier/dir/Inotify.h"
#include "carrier/dir/ManifestCache.h"
#include "carrier/dir/OrphanSweeper.h"
#include "carrier/dir/SessionFolder.h"
#include "carrier/dir/SharedDir.h"
#include "io/Loop.h"
#include "io/TickHook.h"
#include "io/Timer.h"
#include "mux/Carrier.h"

namespace ferry::carrier::dir {

/// Server side of the directory carrier: finds published sessions by listing DIR (the only
/// listing in the design: at start, on inotify events for DIR where they work, and every
/// kScanInterval), claims each with an exclusive create of <folder>/claim holding this
/// acceptor's random instance id, and hands a server-side DirCarrier to onCarrier. Several
/// acceptors, in any processes, may serve one DIR: each session is claimed once.
///
/// Anyone who can write DIR may fill it with junk, so a pass over DIR reads kEntriesPerStep
/// entries per loop iteration and goes on in the next ones (the loop serves everything else in
/// between); a manifest found invalid is remembered by name and inode and not read again until
/// it changes or its recheck is due (ManifestCache); at most
/// kMaxClaimsPerInterval sessions are claimed per kScanInterval, newest first; and the owner may
/// pause() claiming altogether.
class DirAcceptor : public mux::CarrierAcceptor {
 public:
  /// Periodic scan; a remote DIR's listing may lag this much more (attribute caches).
  static constexpr io::Duration kScanInterval = std::chrono::milliseconds(500);
  /// Entries of DIR read per loop iteration while a pass is in progress.
  static constexpr size_t kEntriesPerStep = 1024;
  /// Sessions claimed per kScanInterval at most.
  static constexpr size_t kMaxClaimsPerInterval = 16;
  /// Longest wait between two attempts to list a DIR that vanished or was replaced.
  static constexpr io::Duration kMaxRetryDelay = std::chrono::seconds(30);

  DirAcceptor(io::Loop& loop, DirOptions options);
  ~DirAcceptor() override;

  io::Result<void> start(OnCarrier onCarrier) override;
  void stop() override;
  void pause() override { paused_ = true; }
  void resume() override;

 private:
  struct Candidate {
    int64_t mtimeNs = 0;
    std::string sid;
  };
  /// What one pass over DIR found so far.
  struct Pass {
    uint64_t number = 0;
    std::unordered_set<std::string> manifests;  // tracked ids (handled, held, foreign) seen
    std::unordered_set<std::string> folders;    // session folders, for orphan cleanup
    std::vector<Candidate> candidates;          // valid, unhandled sessions
  };

  void scan();
  void scheduleScan();
  void armScanTimer();
  bool beginPass();
  void continuePass();
  void visit(const char* entry, ino_t inode);
  void finishPass();
  void claimCandidates();
  void trackOrphanFolders();
  /// Sessions served here that have ended but whose manifest a later pass still finds: their
  /// files were put back, or their client is gone; either way they are removed.
  void removeEndedSessions();
  bool held(const std::string& sid) const;
  /// Claims and serves `sid` if it is a valid, unclaimed session. False if it did not get as far
  /// as claiming (its manifest or folder is not usable), so no claim of the interval is spent.
  bool consider(const std::string& sid);
  /// Opens the server lane of a session just claimed and hands its carrier to onCarrier_.
  void serve(SessionFolder folder);
  /// The server lane of a session could not be created: gives the session up for good if its
  /// name is taken by something else (a planted file), else leaves it for a later scan.
  void onServerLaneFailed(const SessionFolder& folder, const io::Error& error);
  /// How long the lanes of a session not served here stay silent before OrphanSweeper removes it.
  io::Duration orphanTimeout() const;
  void noteGarbage(const std::string& name, const char* why);
  void noteDirLost(const io::Error& error);

  io::Loop& loop_;
  DirOptions options_;
  std::string instanceId_;
  std::optional<SharedDir> dir_;
  OnCarrier onCarrier_;
  std::shared_ptr<Inotify> inotify_;
  Inotify::WatchId dirWatch_ = 0;
  io::Timer scanTimer_{loop_};
  io::Timer stepTimer_{loop_};
  io::TickHook scanHook_{loop_, [this] { scan(); }};
  bool rescan_ = false;  // something arrived during a pass: another one follows it
  bool paused_ = false;
  size_t claimsLeft_ = kMaxClaimsPerInterval;
  FolderListing listing_;
  Pass pass_;
  ManifestCache manifests_;
  std::unordered_set<std::string> handled_;  // session ids claimed here or elsewhere
  /// Sessions with a live carrier made here (the carrier holds the other end): never forgotten
  /// or taken for replayed files, whatever a listing shows.
  std::unordered_map<std::string, std::weak_ptr<void>> held_;
  /// Sessions whose carrier made here has ended, with the pass during which that was noticed.
  std::unordered_map<std::string, uint64_t> ended_;
  /// Sessions claimed by other servers, and session folders without a manifest.
  OrphanSweeper orphans_;
  std::unordered_set<std::string> garbage_;  // names already logged as ignored
  io::Duration retryDelay_ = kScanInterval;  // while DIR is not the directory we started on
  io::TimePoint nextListingAttempt_{};
  bool dirLost_ = false;
};

}  // namespace ferry::carrier::dir
