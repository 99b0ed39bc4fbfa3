#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <string>

#include "io/ChunkQueue.h"
#include "io/Fd.h"
#include "mux/Credit.h"
#include "mux/OpenResult.h"

namespace ferry::mux {

/// One TCP-side stream of a session: its socket, the bytes waiting to be written to it and the
/// flow-control counters of both directions. Owned by the session's stream table. The life state
/// (phase, finSent, finReceived, writeShut, hangupSeen) only moves forward; the other flags mark
/// membership in the session's work lists and the registered epoll mask.
struct Stream {
  enum class Phase : uint8_t {
    Resolving,   // opened by the peer: the handler looks the destination up; no socket yet
    Connecting,  // opened by the peer: non-blocking connect in progress, its Data is buffered
    Open,
  };

  Stream(uint32_t streamId, io::Fd socket, Phase initial, uint64_t initialWindow,
         io::ChunkPool& pool)
      : id(streamId),
        fd(std::move(socket)),
        phase(initial),
        sendCredit(initialWindow),
        receiveCredit(initialWindow),
        window(initialWindow),
        lowestPeerCredit(initialWindow),
        output(pool) {}

  /// Read the socket now? Not while connecting, after EOF, without credit or while the carrier
  /// is congested.
  bool wantsRead() const {
    return phase == Phase::Open && !finSent && sendCredit > 0 && !carrierStalled;
  }
  /// Both directions are done: Fin sent (socket EOF) and, after the peer's Fin, our output was
  /// drained and the socket's write side shut.
  bool finished() const { return finSent && writeShut; }
  /// Credit to return so that the peer may again have `window` bytes in flight or buffered here:
  /// the bytes written out since the last Window, less any surplus the peer still holds after
  /// the window shrank (then negative).
  int64_t creditOwed() const {
    return static_cast<int64_t>(window.size()) -
           static_cast<int64_t>(receiveCredit + output.size());
  }
  /// The epoll mask this state needs. EPOLLRDHUP stays armed while reading is paused, until a
  /// hang-up was seen once (it is level-triggered and would fire every tick).
  uint32_t desiredEvents() const {
    if (phase == Phase::Connecting) {
      return EPOLLOUT;
    }
    if (phase == Phase::Resolving) {
      return 0;
    }
    uint32_t events = 0;
    if (wantsRead()) {
      events |= EPOLLIN | EPOLLRDHUP;
    } else if (!finSent && !hangupSeen) {
      events |= EPOLLRDHUP;
    }
    if (writeBlocked) {
      events |= EPOLLOUT;
    }
    return events;
  }

  uint32_t id;
  std::string target;  // what the Open named ("" = the server's default), for status figures
  io::Fd fd;
  Phase phase;
  bool finSent = false;         // socket EOF read and Fin sent: the socket is not read again
  bool finReceived = false;     // peer's Fin: shut our write side once `output` is drained
  bool writeShut = false;       // shutdown(SHUT_WR) done
  bool hangupSeen = false;      // RDHUP/HUP reported while reading was paused
  bool carrierStalled = false;  // in the session's list of streams waiting for the carrier
  bool flushQueued = false;     // in the session's list of streams with output to write
  bool writeBlocked = false;    // the last write left bytes: EPOLLOUT armed
  bool windowGrown = false;     // in the session's list of streams with a grown window
  bool blockedSent = false;     // Blocked sent since the peer's last Window
  bool peerBlocked = false;     // the peer sent Blocked since our last Window
  bool watched = false;         // registered with the loop
  uint32_t watchedEvents = 0;   // mask registered with the loop
  uint64_t sendCredit;          // bytes we may still send to the peer
  uint64_t receiveCredit;       // bytes the peer may still send us
  ReceiveWindow window;         // receive window, grown by credit auto-tuning
  uint64_t lowestPeerCredit;    // least receiveCredit since the last Window we sent
  uint64_t lastDataSweep = 0;   // the session's idle-sweep count when Data last arrived
  io::ChunkQueue output;        // from the peer, for the socket
  OnOpenResult onOpenResult;    // client side: told once of the peer's Opened or Rst
};

}  // namespace ferry::mux
