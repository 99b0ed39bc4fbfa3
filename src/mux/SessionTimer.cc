// The session's clock: the one timer (heartbeat and dead-peer deadlines), Pings and their
// echoes, and the idle sweep of grown windows and pooled chunks. Part of Session::Impl (declared
// in SessionImpl.h).
#include "mux/SessionImpl.h"

#include <fmt/format.h>

namespace ferry::mux {
namespace {

using proto::FrameType;

// The session timer fires at least once per heartbeat; the idle sweep runs on it at most this
// often. A grown window falls back once its stream received nothing for two whole intervals.
constexpr io::Duration kIdleSweepInterval = std::chrono::milliseconds(500);
constexpr uint64_t kIdleSweeps = 2;
// A Ping whose counter has this bit set echoes the peer's Ping of the other 63 bits and is not
// answered (docs/protocol.md); a peer that predates echoes ignores both kinds.
constexpr uint64_t kPingEchoBit = uint64_t{1} << 63;

}  // namespace

void Session::Impl::onPing(std::span<const uint8_t> payload) {
  if (payload.size() != 8) {
    return;  // liveness only, as before echoes existed
  }
  uint64_t counter = proto::getU64(payload.data());
  if ((counter & kPingEchoBit) == 0) {
    uint8_t echo[8];
    proto::putU64(echo, counter | kPingEchoBit);
    send(FrameType::Ping, 0, echo);
  } else if ((counter & ~kPingEchoBit) == pingCounter_ && pingSentAt_ != io::TimePoint{}) {
    stats_.roundTrips.add(io::Clock::now() - pingSentAt_);
    pingSentAt_ = {};  // one sample per Ping, even if a hostile peer repeats the echo
  }
}

void Session::Impl::armTimer() {
  io::TimePoint deadline = keepalive_.nextDeadline();
  if (ended_ || (timer_.armed() && timerDeadline_ <= deadline)) {
    // The armed timer fires first; it re-arms for whatever is due then.
    return;
  }
  timerDeadline_ = deadline;
  timer_.arm(deadline, [this] { onTimer(); });
}

void Session::Impl::sweepIdle(io::TimePoint now) {
  if (now - lastSweep_ < kIdleSweepInterval) {
    return;
  }
  lastSweep_ = now;
  streamContext_.sweepCount++;
  std::erase_if(grownStreams_, [this](uint32_t id) {
    auto found = streams_.find(id);
    if (found == streams_.end()) {
      return true;
    }
    Stream& stream = *found->second;
    if (stream.lastDataSweep() + kIdleSweeps >= streamContext_.sweepCount) {
      return false;
    }
    // The peer keeps credit already granted; the stream owes none until it is used.
    stream.resetWindow();
    stream.marks.windowGrown = false;
    return true;
  });
  if (!streamContext_.dataSinceSweep) {
    chunkPool_.trim();
  }
  if (datagrams_ != nullptr) {
    datagrams_->onDatagramSweep(now);
  }
  streamContext_.dataSinceSweep = false;
}

void Session::Impl::onTimer() {
  io::TimePoint now = io::Clock::now();
  sweepIdle(now);
  switch (keepalive_.due(now)) {
    case Keepalive::Action::PeerDead: {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(keepalive_.deadPeerTimeout());
      end(peerHelloSeen_
              ? fmt::format("peer dead: nothing received for {} ms", ms.count())
              : fmt::format("the peer did not complete the handshake (no Hello) within {} ms",
                            ms.count()),
          false, true);
      return;
    }
    case Keepalive::Action::SendPing: {
      uint8_t payload[8];
      proto::putU64(payload, ++pingCounter_);
      send(FrameType::Ping, 0, payload);
      pingSentAt_ = io::Clock::now();
      break;
    }
    case Keepalive::Action::None:
      break;
  }
  armTimer();
}

}  // namespace ferry::mux
