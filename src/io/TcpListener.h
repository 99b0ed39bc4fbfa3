#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "io/Fd.h"
#include "io/Loop.h"
#include "io/RateLimitedLog.h"
#include "io/Timer.h"

namespace ferry::io {

/// Accepts connections on a listening socket for the loop: the one accept loop of every
/// listener (tunnel client ports, the TCP carrier, the bench echo server).
///
/// Running out of file descriptors (EMFILE/ENFILE) must not spin the level-triggered loop or
/// flood the log. It uses libuv's reserve-fd trick: a spare descriptor (/dev/null) is held open;
/// on EMFILE it is closed so the pending connections can be accepted and reset at once (their
/// clients see a refusal rather than a hang), then reopened. The listener then pauses for
/// kPauseAfterExhaustion before it watches again. Such an episode is logged once when it starts
/// and once, with the count of refused connections, when an accept succeeds again.
class TcpListener {
 public:
  using OnAccept = std::function<void(Fd socket)>;
  /// Connections accepted per readiness event, so a connect storm cannot hold the loop.
  static constexpr int kMaxAcceptsPerEvent = 64;
  /// How long the listener stops watching after the descriptors ran out.
  static constexpr Duration kPauseAfterExhaustion = std::chrono::milliseconds(100);

  /// Watches `listenFd` (non-blocking, listening) and hands each accepted socket (non-blocking,
  /// TCP_NODELAY) to `onAccept`. `name` says which listener in logs ("listener 127.0.0.1:80").
  TcpListener(Loop& loop, Fd listenFd, std::string name, OnAccept onAccept);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  int fd() const { return fd_.get(); }
  /// Connections refused for want of descriptors since the start.
  uint64_t refusedCount() const { return refusedTotal_; }
  /// Stops accepting until resume(), also from inside onAccept: new connections wait in the
  /// backlog (the owner is at a limit).
  void pause();
  void resume();

 private:
  void onReadable();
  /// Accepts and resets what is pending using the reserve descriptor, then pauses.
  void onOutOfDescriptors(int error);
  void pauseAfterExhaustion();
  /// Watches the socket unless paused by the owner or after exhaustion.
  void updateWatch();
  void endEpisode();

  Loop& loop_;
  Fd fd_;
  std::string name_;
  OnAccept onAccept_;
  Fd reserve_;
  Timer resumeTimer_{loop_};
  bool watching_ = false;
  bool pausedByOwner_ = false;
  bool inEpisode_ = false;
  uint64_t refusedInEpisode_ = 0;
  uint64_t refusedTotal_ = 0;
  RateLimitedLog otherErrors_{std::chrono::seconds(10)};
};

}  // namespace ferry::io
