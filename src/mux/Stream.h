#pragma once

#include <sys/epoll.h>

#include <cstdint>

#include "io/Buffer.h"
#include "io/Fd.h"

namespace ferry::mux {

/// One TCP-side stream of a session: its socket, the bytes waiting to be written to it and the
/// flow-control counters of both directions. Owned by the session's stream table. The life state
/// (phase, finSent, finReceived, writeShut, hangupSeen) only moves forward; the other flags mark
/// membership in the session's work lists and the registered epoll mask.
struct Stream {
  enum class Phase : uint8_t {
    Connecting,  // server side: non-blocking connect in progress, peer's Data is buffered
    Open,
  };

  Stream(uint32_t streamId, io::Fd socket, Phase initial, uint32_t window)
      : id(streamId),
        fd(std::move(socket)),
        phase(initial),
        sendCredit(window),
        receiveCredit(window) {}

  /// Read the socket now? Not while connecting, after EOF, without credit or while the carrier
  /// is congested.
  bool wantsRead() const {
    return phase == Phase::Open && !finSent && sendCredit > 0 && !carrierStalled;
  }
  /// Both directions are done: Fin sent (socket EOF) and, after the peer's Fin, our output was
  /// drained and the socket's write side shut.
  bool finished() const { return finSent && writeShut; }
  /// The epoll mask this state needs. EPOLLRDHUP stays armed while reading is paused, until a
  /// hang-up was seen once (it is level-triggered and would fire every tick).
  uint32_t desiredEvents() const {
    if (phase == Phase::Connecting) {
      return EPOLLOUT;
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
  io::Fd fd;
  Phase phase;
  bool finSent = false;           // socket EOF read and Fin sent: the socket is not read again
  bool finReceived = false;       // peer's Fin: shut our write side once `output` is drained
  bool writeShut = false;         // shutdown(SHUT_WR) done
  bool hangupSeen = false;        // RDHUP/HUP reported while reading was paused
  bool carrierStalled = false;    // in the session's list of streams waiting for the carrier
  bool flushQueued = false;       // in the session's list of streams with output to write
  bool writeBlocked = false;      // the last write left bytes: EPOLLOUT armed
  bool watched = false;           // registered with the loop
  uint32_t watchedEvents = 0;     // mask registered with the loop
  uint64_t sendCredit;            // bytes we may still send to the peer
  uint64_t receiveCredit;         // bytes the peer may still send us
  uint64_t unreturnedCredit = 0;  // bytes written to the socket, not yet returned by Window
  io::Buffer output;              // from the peer, for the socket
};

}  // namespace ferry::mux
