#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "io/ChunkQueue.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "mux/Credit.h"
#include "mux/OpenResult.h"
#include "proto/Frame.h"

namespace ferry::mux {

class Stream;

/// What a stream asks of its session: frames to the peer, room in the carrier's batch, a place in
/// the session's work lists, and the end of the stream. Session::Impl implements it; a stream
/// sees nothing else of the session.
class StreamOwner {
 public:
  /// For log lines: which session.
  virtual std::string describe() const = 0;
  /// Sends a frame about the stream (Opened, Data of first bytes, Fin, Window, Blocked).
  virtual void sendFrame(proto::FrameType type, uint32_t id,
                         std::span<const uint8_t> payload = {}) = 0;
  /// Room for a Data frame of at most `max` payload bytes in the carrier's outgoing batch (empty:
  /// none now); commitData(n) follows each reserve, 0 cancelling the frame.
  virtual std::span<uint8_t> reserveData(uint32_t id, size_t max) = 0;
  virtual void commitData(size_t n) = 0;
  virtual bool carrierCongested() const = 0;
  /// Work lists: read again once the carrier takes frames (Stream::resumeReading); write the
  /// output at the end of the tick (Stream::writeSocket); the window grew, shrink it when idle.
  virtual void waitForCarrier(Stream& stream) = 0;
  virtual void queueFlush(Stream& stream) = 0;
  virtual void windowGrown(Stream& stream) = 0;
  /// The stream is over; the session forgets (destroys) it. Nothing of the stream is touched
  /// after these calls. Closed: both directions done. Failed: reset, the peer is told `reason`.
  /// ConnectFailed: the destination's connect failed with `error` (errno).
  virtual void streamClosed(Stream& stream) = 0;
  virtual void streamFailed(Stream& stream, const std::string& reason) = 0;
  virtual void connectFailed(Stream& stream, int error) = 0;

 protected:
  ~StreamOwner() = default;
};

/// What the streams of one session share; the session owns it.
struct StreamContext {
  io::Loop& loop;
  io::ChunkPool& pool;  // the output queues' chunks
  CreditLimits limits;
  uint32_t streamWindow;  // a stream's initial window
  uint32_t maxDataFrame;
  size_t socketReadBudget;  // bytes a stream reads from its socket per tick (the carrier's)
  uint64_t committed = 0;   // over all streams: bytes in output queues + receiveCredit
  uint64_t bytesFromSockets = 0;
  uint64_t bytesToSockets = 0;
  uint64_t sweepCount = 0;      // the session's idle sweeps so far
  bool dataSinceSweep = false;  // Data arrived for some stream since the last sweep
};

/// One TCP-side stream of a session (after muduo's TcpConnection): its socket, the bytes waiting
/// to be written to it and the flow-control counters of both directions. Reads the socket into
/// Data frames while it has credit, writes the peer's Data, and half-closes and resets. Its life
/// is a Phase, a ReadSide and a WriteSide, each only moving forward. Owned by the session's
/// stream table.
class Stream {
 public:
  enum class Phase : uint8_t {
    Resolving,   // opened by the peer: the handler looks the destination up; no socket yet
    Connecting,  // opened by the peer: non-blocking connect in progress, its Data is buffered
    Open,
  };
  /// Reading the socket: until its EOF was read and Fin sent.
  enum class ReadSide : uint8_t { Open, FinSent };
  /// Writing the socket: the peer's Fin shuts our write side once the output drained.
  enum class WriteSide : uint8_t { Open, FinReceived, Shut };

  /// Which of the session's work lists hold the stream; the session keeps them.
  struct WorkMarks {
    bool flushQueued = false;     // output to write at the end of the tick
    bool carrierStalled = false;  // waiting for the carrier: not read meanwhile
    bool windowGrown = false;     // grown window, shrunk when the stream idles
  };

  Stream(StreamOwner& owner, StreamContext& context, uint32_t id, io::Fd socket, Phase initial);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  uint32_t id() const { return id_; }
  const std::string& target() const { return target_; }
  void setTarget(std::string target) { target_ = std::move(target); }
  /// Client side: told once of the peer's Opened or Rst.
  void setOnOpenResult(OnOpenResult onResult) { onOpenResult_ = std::move(onResult); }
  Phase phase() const { return phase_; }
  ReadSide readSide() const { return read_; }
  WriteSide writeSide() const { return write_; }
  /// Both directions are done: Fin sent (socket EOF) and, after the peer's Fin, our output was
  /// drained and the socket's write side shut.
  bool finished() const { return read_ == ReadSide::FinSent && write_ == WriteSide::Shut; }
  uint64_t sendCredit() const { return sendCredit_; }
  /// What the stream holds of the session's budget: queued output and credit granted.
  uint64_t heldBytes() const { return receiveCredit_ + output_.size(); }
  uint64_t lastDataSweep() const { return lastDataSweep_; }

  /// Registers (or re-registers) the socket with the loop for what the state needs.
  void updateEvents();
  /// Data already read from the socket (a proxy's request), sent right after the Open.
  void sendFirstBytes(std::string_view bytes);
  /// The handler's socket for a Resolving stream: its connect is in progress.
  void connect(io::Fd socket);

  // Frames from the peer.
  void onData(std::span<const uint8_t> payload);
  void onFin();
  void onWindow(uint32_t increment);
  /// The peer has bytes for us and no credit: evidence for the next return (growWindow).
  void onBlocked() { peerBlocked_ = true; }
  void onOpened();
  /// The peer refused the Open (or the session ended): tells the OnOpenResult, writes its reply
  /// and closes the socket without a reset. False (nothing done) when nobody asked.
  bool failOpen(proto::RstCode code, std::string_view reason);

  /// Writes the output once; false when the stream ended meanwhile (it is then destroyed).
  bool writeSocket();
  /// The carrier takes frames again (marks.carrierStalled was cleared).
  void resumeReading() { updateEvents(); }
  /// Back to the initial window after the stream idled (the peer keeps credit already granted).
  void resetWindow() {
    window_.reset(context_.streamWindow);
    peerBlocked_ = false;  // evidence about the old window
  }
  /// Unregisters and closes the socket with a TCP reset.
  void resetSocket();
  /// The session ends: an OnOpenResult learns, the socket is reset.
  void abandon();

  WorkMarks marks;

 private:
  /// Read the socket now? Not while connecting, after EOF, without credit or while the carrier
  /// is congested.
  bool wantsRead() const {
    return phase_ == Phase::Open && read_ == ReadSide::Open && sendCredit_ > 0 &&
           !marks.carrierStalled;
  }
  /// Credit to return so that the peer may again have a window of bytes in flight or buffered
  /// here: the bytes written out since the last Window, less any surplus the peer still holds
  /// after the window shrank (then negative).
  int64_t creditOwed() const {
    return static_cast<int64_t>(window_.size()) -
           static_cast<int64_t>(receiveCredit_ + output_.size());
  }
  uint32_t desiredEvents() const;
  void unwatch();
  void onSocketEvent(uint32_t events);
  void onConnectDone();
  void readSocket();
  /// Tells the peer (once per Window) that the socket has bytes and the credit is used up.
  void reportBlocked();
  /// One read(2) of at most `want` bytes straight into a Data frame reserved in the carrier's
  /// batch, committed when bytes came. Returns what read(2) returned (errno set on -1).
  ssize_t readIntoCarrier(size_t want);
  /// Data for an open stream with nothing queued goes to its socket at once, straight from the
  /// carrier's input (no copy into the chunks); what the socket does not take is queued. May
  /// end the stream (a write error).
  void writeDirect(std::span<const uint8_t> payload);
  void queueOutput();
  void returnCredit();
  /// Credit auto-tuning at a return of `increment` bytes: grows the window when it is limited by
  /// credit and the session cap allows; returns the growth to add to the increment.
  uint64_t growWindow(uint64_t increment);
  /// Writes a proxy's reply (if any) and closes the socket without a reset.
  void closeWithReply(const std::string& reply);

  StreamOwner& owner_;
  StreamContext& context_;
  uint32_t id_;
  std::string target_;  // what the Open named ("" = the server's default), for status figures
  io::Fd fd_;
  Phase phase_;
  ReadSide read_ = ReadSide::Open;
  WriteSide write_ = WriteSide::Open;
  // The loop registration: mask, EPOLLOUT armed (the last write left bytes), and a hang-up seen
  // while reading was paused (EPOLLRDHUP is then no longer asked for).
  bool watched_ = false;
  bool writeBlocked_ = false;
  bool hangupSeen_ = false;
  uint32_t watchedEvents_ = 0;
  bool blockedSent_ = false;    // Blocked sent since the peer's last Window
  bool peerBlocked_ = false;    // the peer sent Blocked since our last Window
  uint64_t sendCredit_;         // bytes we may still send to the peer
  uint64_t receiveCredit_;      // bytes the peer may still send us
  ReceiveWindow window_;        // receive window, grown by credit auto-tuning
  uint64_t lowestPeerCredit_;   // least receiveCredit since the last Window we sent
  uint64_t lastDataSweep_ = 0;  // context_.sweepCount when Data last arrived
  io::ChunkQueue output_;       // from the peer, for the socket
  OnOpenResult onOpenResult_;
};

}  // namespace ferry::mux
