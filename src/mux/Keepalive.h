#pragma once

#include "io/Clock.h"

namespace ferry::mux {

/// Heartbeat and dead-peer deadlines of one session, computed from when frames last left and
/// arrived (computed deadlines, as in mosh): the session keeps a single loop timer at
/// nextDeadline() and asks due() when it fires. Pure arithmetic on the times it is given, so it
/// is tested without a clock.
class Keepalive {
 public:
  enum class Action { None, SendPing, PeerDead };

  Keepalive(io::Duration heartbeat, io::Duration deadPeer, io::TimePoint now)
      : heartbeat_(heartbeat), deadPeer_(deadPeer), lastSent_(now), lastReceived_(now) {}

  void onSent(io::TimePoint now) { lastSent_ = now; }
  /// A frame arrived; the peer is present from now on (see onPeerPresent).
  void onReceived(io::TimePoint now) {
    lastReceived_ = now;
    watchingPeer_ = true;
  }
  /// The peer is known to be there (connected, or it sent a frame): from now on silence longer
  /// than the dead-peer timeout ends the session, also before the peer's Hello. Idempotent.
  void onPeerPresent(io::TimePoint now);
  /// The peer's Hello arrived: restarts the dead-peer deadline from `now`. The timeout is stretched
  /// to at least twice the peer's own heartbeat, so a peer configured to ping rarely is not
  /// declared dead between two of its pings.
  void onPeerHello(io::TimePoint now, io::Duration peerHeartbeat);

  /// The earliest time at which due() may return something other than None.
  io::TimePoint nextDeadline() const;
  /// What to do at `now`: PeerDead wins over SendPing.
  Action due(io::TimePoint now) const;
  /// The dead-peer timeout in force (stretched by onPeerHello).
  io::Duration deadPeerTimeout() const { return deadPeer_; }

 private:
  io::Duration heartbeat_;
  io::Duration deadPeer_;
  io::TimePoint lastSent_;
  io::TimePoint lastReceived_;
  bool watchingPeer_ = false;
};

}  // namespace ferry::mux
