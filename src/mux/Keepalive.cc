#include "mux/Keepalive.h"

#include <algorithm>

namespace ferry::mux {

void Keepalive::onPeerPresent(io::TimePoint now) {
  if (!watchingPeer_) {
    watchingPeer_ = true;
    lastReceived_ = now;
  }
}

void Keepalive::onPeerHello(io::TimePoint now, io::Duration peerHeartbeat) {
  watchingPeer_ = true;
  lastReceived_ = now;
  deadPeer_ = std::max(deadPeer_, 2 * peerHeartbeat);
}

io::TimePoint Keepalive::nextDeadline() const {
  io::TimePoint ping = lastSent_ + heartbeat_;
  if (!watchingPeer_) {
    return ping;
  }
  return std::min(ping, lastReceived_ + deadPeer_);
}

Keepalive::Action Keepalive::due(io::TimePoint now) const {
  if (watchingPeer_ && now >= lastReceived_ + deadPeer_) {
    return Action::PeerDead;
  }
  if (now >= lastSent_ + heartbeat_) {
    return Action::SendPing;
  }
  return Action::None;
}

}  // namespace ferry::mux
