#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "io/Clock.h"

namespace ferry::carrier::dir {

/// Sessions of DIR that an acceptor does not serve and that may be orphaned: claimed by another
/// server, or folders without a manifest. Each is removed once neither of its lanes has changed
/// for the orphan timeout (both peers died before either cleaned up); it is forgotten once a
/// pass over DIR no longer finds it.
class OrphanSweeper {
 public:
  /// Bound on what a DIR full of junk can make the sweeper remember.
  static constexpr size_t kMaxSessions = 4096;

  /// Watches session `sid` from `now`, whose lanes' activity (SessionFolder::laneActivity) is
  /// `activity` (0: not measured yet). False, watching nothing, once kMaxSessions are watched.
  bool watch(const std::string& sid, uint64_t activity, io::TimePoint now);
  bool watching(const std::string& sid) const { return sessions_.contains(sid); }
  /// Forgets the sessions for which `present(sid)` is false.
  void forgetAbsent(const std::function<bool(const std::string&)>& present);
  /// At most every timeout / 4 (orphans need only the resolution of their timeout, not a listing
  /// per pass): removes the sessions of DIR (open as `dirFd`, named `dirPath`) whose lanes have
  /// been silent for `timeout`, skipping those `held(sid)` says this process serves.
  void sweep(int dirFd, const std::string& dirPath, io::Duration timeout,
             const std::function<bool(const std::string&)>& held);

 private:
  struct Watched {
    uint64_t activity = 0;  // laneActivity() when last seen changing
    io::TimePoint changedAt;
  };

  std::unordered_map<std::string, Watched> sessions_;
  io::TimePoint nextSweep_{};
};

}  // namespace ferry::carrier::dir
