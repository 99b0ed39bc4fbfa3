#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/Error.h"
#include "proto/Frame.h"

namespace ferry::mux {

/// What a carrier tells `ferry status` and /metrics about itself; fields it does not know stay
/// empty or zero.
struct CarrierInfo {
  std::string kind;           // "dir", "tcp", "stdio", "exec"
  std::string peer;           // dir: the session id; tcp: the peer address; exec: the command
  std::string dir;            // dir: DIR
  std::string fs;             // dir: the file system class ("tmpfs", "fuse", ...)
  std::string tier;           // dir: "inotify", or "poll" and the current poll interval
  bool keyed = false;         // wrapped by the pre-shared key layer
  uint64_t lanes = 0;         // dir: lanes of the session (this side's and the peer's)
  uint64_t segmentBytes = 0;  // dir: bytes of this side's segment files not yet acknowledged
};

/// Receives what a carrier reads. All calls happen on the loop thread.
class CarrierListener {
 public:
  virtual ~CarrierListener() = default;
  /// One session frame from the peer, in order and verified (checksum and sequence). The payload
  /// is valid only during the call. Carrier frames (Rotate, SegmentAck) never arrive here.
  virtual void onFrame(const proto::Frame& frame) = 0;
  /// The channel is broken (peer closed it, corrupt or stuck input, I/O error, files removed).
  /// The message names the carrier's cause; the code is the errno of a failed system call,
  /// EPROTO for what the peer sent against the protocol, or 0. No frame arrives after this.
  virtual void onCarrierFailed(const io::Error& error) = 0;
  /// congested() went from true to false.
  virtual void onCarrierWritable() = 0;
};

/// An ordered, reliable channel of frames to one peer: the one seam between the multiplexer and
/// the transports (shared directory, TCP, stdio). Every byte of a session goes through it.
class Carrier {
 public:
  virtual ~Carrier() = default;

  /// Must be called once before start().
  virtual void setListener(CarrierListener* listener) = 0;
  /// Starts reading (registers with the loop).
  virtual void start() = 0;
  /// Queues one frame. Frames queued during a loop tick leave together at the end of the tick
  /// (one writev / one append per tick); the payload is copied.
  virtual void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) = 0;
  /// Zero-copy send, for Data read from a socket: room for the payload (at most `max` bytes) of
  /// one frame in the outgoing batch, where the caller writes it (e.g. read(2) straight into
  /// it), then commit(n) of the bytes written. commit finishes the frame in place (length,
  /// checksum, sequence; a keyed carrier seals it there), so the payload is never copied in user
  /// space. Nothing may be sent between reserve and commit. An empty span means the carrier takes
  /// nothing now (closed or failed); commit(0) then. The base version copies through send().
  virtual std::span<uint8_t> reserve(proto::FrameType type, uint32_t stream, size_t max);
  /// Sends the reserved frame with the first `n` bytes written; n == 0 cancels it: nothing is
  /// queued and no sequence number is used (an empty frame goes through send()).
  virtual void commit(size_t n);
  /// True while the carrier holds more unwritten (or, for files, unacknowledged) bytes than its
  /// budget: the session stops reading sockets until onCarrierWritable().
  virtual bool congested() const = 0;
  /// Writes what is queued (best effort), stops all I/O and releases resources. With
  /// `peerGone`, the peer is known dead or finished, so a carrier that keeps files also removes
  /// the peer's. Never calls the listener. Idempotent.
  virtual void close(bool peerGone) = 0;
  /// Short human description for logs, e.g. "dir session 3f2a..." or "tcp 127.0.0.1:5000".
  virtual std::string describe() const = 0;
  /// Read-only figures for status and metrics (cheap: no I/O).
  virtual CarrierInfo info() const {
    CarrierInfo info;
    info.kind = "other";
    info.peer = describe();
    return info;
  }
  /// False while the peer may not exist yet (a published directory session that no server has
  /// claimed, which may wait for a server indefinitely): the handshake deadlines then start at
  /// the peer's first frame instead of at start(). Such a carrier fails on its own when the
  /// peer shows up and then falls silent before its first frame.
  virtual bool peerPresentAtStart() const { return true; }
  /// Bytes one stream may read from its socket per loop tick (fairness: level-triggered epoll
  /// reports a socket with more again next tick). 256 KiB (socat's -b in the comparison): a
  /// 100 KB message then crosses each hop in one batch. A carrier whose every write is a round
  /// trip to a file server asks for more, so that a bulk tick leaves in fewer, larger writes.
  static constexpr size_t kDefaultSocketReadBudget = 256 * 1024;
  virtual size_t socketReadBudget() const { return kDefaultSocketReadBudget; }
  /// A stream ran out of send credit with bytes waiting and told the peer so (Blocked, just
  /// sent): the peer's Window is awaited. A carrier that polls for the peer's frames should
  /// look soon rather than at its one-way upload pace.
  virtual void creditAwaited() {}

 private:
  // The base reserve/commit: the reserved frame's type, stream and payload room.
  proto::FrameType reservedType_ = proto::FrameType::Data;
  uint32_t reservedStream_ = 0;
  std::vector<uint8_t> reserved_;
};

using CarrierPtr = std::unique_ptr<Carrier>;

/// Client side: opens new channels to a peer (publishes a directory session, dials TCP, ...).
class CarrierConnector {
 public:
  virtual ~CarrierConnector() = default;
  virtual io::Result<CarrierPtr> connect() = 0;
};

/// Server side: hands out a channel per peer that arrives (a claimed directory session, an
/// accepted TCP connection, ...).
class CarrierAcceptor {
 public:
  virtual ~CarrierAcceptor() = default;
  using OnCarrier = std::function<void(CarrierPtr)>;
  virtual io::Result<void> start(OnCarrier onCarrier) = 0;
  /// Stops accepting new peers and removes what the acceptor itself created.
  virtual void stop() = 0;
  /// Stops taking new peers for now (the owner is at capacity); peers that arrive meanwhile wait
  /// where the transport keeps them (DIR, the listen backlog). Acceptors of a single peer ignore
  /// it.
  virtual void pause() {}
  /// Takes new peers again after pause().
  virtual void resume() {}
};

}  // namespace ferry::mux
