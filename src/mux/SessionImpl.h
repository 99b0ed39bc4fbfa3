#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "io/ChunkQueue.h"
#include "io/RateLimitedLog.h"
#include "io/TickHook.h"
#include "io/Timer.h"
#include "mux/Credit.h"
#include "mux/Keepalive.h"
#include "mux/Session.h"
#include "mux/Stream.h"

namespace ferry::mux {

/// The session's state and logic; Session forwards to it. Frame handling and the session's life
/// are in SessionImpl.cc, its timer, Pings and idle sweep in SessionTimer.cc, the socket side of
/// streams in SessionStreams.cc.
class Session::Impl {
 public:
  Impl(Session& owner, io::Loop& loop, CarrierPtr carrier, Role role, SessionHandler& handler,
       SessionConfig config);
  ~Impl();

  void setCarrierListener(CarrierListener* listener) { carrier_->setListener(listener); }
  void start();
  void openStream(io::Fd socket, std::string target, OnOpenResult onResult,
                  std::string_view firstBytes);
  void requestListen(const proto::ListenRequest& request);
  void shutdown(const std::string& reason);
  void onFrame(const proto::Frame& frame);
  /// Data, Fin, Rst, Window and Opened: frames about one stream.
  void onStreamFrame(const proto::Frame& frame);
  void onCarrierFailed(const std::string& reason);
  void onCarrierWritable();

  // Datagram flows (SessionDatagrams.cc).
  void setDatagramHandler(DatagramHandler* handler) { datagrams_ = handler; }
  void openFlow(uint32_t flow, std::string_view target);
  bool sendDatagram(uint32_t flow, std::span<const uint8_t> payload);
  void closeFlow(uint32_t flow, proto::FlowCloseReason reason);

  bool established() const { return peerHelloSeen_; }
  const SessionStats& stats() {
    stats_.bufferBytes = chunkPool_.heldBytes();
    return stats_;
  }
  std::string describe() const;
  SessionInfo info();

 private:
  // Frames from the peer.
  void onHello(const proto::Frame& frame);
  void onOpen(uint32_t id, std::string_view target);
  void onData(Stream& stream, std::span<const uint8_t> payload);
  void onFin(Stream& stream);
  void onOpened(Stream& stream);
  void onRst(Stream& stream, std::span<const uint8_t> payload);
  /// The handler's answer for a stream in Phase::Resolving.
  void onConnectResult(uint32_t id, ConnectResult result);
  /// Tells the stream's OnOpenResult of a failure, writes its reply and closes the socket.
  void failOpen(Stream& stream, proto::RstCode code, std::string_view reason);
  void onWindow(Stream& stream, std::span<const uint8_t> payload);
  void onBlocked(Stream& stream, std::span<const uint8_t> payload);
  void onUnknownStream(const proto::FrameHeader& header);
  void onPing(std::span<const uint8_t> payload);
  /// Listen and ListenResult (SessionListen.cc).
  void onListenFrame(const proto::Frame& frame);
  bool isPastStream(uint32_t id) const;
  void onDatagramFrame(const proto::Frame& frame);
  void onFlowOpen(uint32_t flow, std::string_view target);

  // The socket side of streams (SessionStreams.cc).
  Stream& addStream(uint32_t id, io::Fd socket, Stream::Phase phase);
  void onSocketEvent(Stream& stream, uint32_t events);
  void onConnectDone(Stream& stream);
  void readSocket(Stream& stream);
  /// One read(2) of at most `want` bytes straight into a Data frame reserved in the carrier's
  /// batch, committed when bytes came. Returns what read(2) returned (errno set on -1).
  ssize_t readIntoCarrier(Stream& stream, size_t want);
  /// Writes the stream's output once; false when the stream was closed or reset meanwhile.
  bool writeSocket(Stream& stream);
  /// Data for an open stream with nothing queued goes to its socket at once, straight from the
  /// carrier's input (no copy into the chunks); what the socket does not take is queued. May
  /// reset the stream (a write error).
  void writeDirect(Stream& stream, std::span<const uint8_t> payload);
  void returnCredit(Stream& stream);
  /// Credit auto-tuning at a return of `increment` bytes: grows the stream's window when it is
  /// limited by credit and the session cap allows; returns the growth to add to the increment.
  uint64_t growWindow(Stream& stream, uint64_t increment);
  /// Once per second from the session timer: grown windows of streams that received nothing for
  /// a whole interval fall back to the initial window, and an idle session frees pooled chunks.
  void sweepIdle(io::TimePoint now);
  void updateEvents(Stream& stream);
  void queueOutput(Stream& stream);
  void scheduleFlush();
  void flushOutputs();
  /// Tells the peer (once per Window) that this stream has bytes and no credit.
  void reportBlocked(Stream& stream);
  void stallOnCarrier(Stream& stream);
  void resetStream(Stream& stream, const std::string& reason, bool notifyPeer);
  void closeStream(Stream& stream);
  /// Unregisters, closes (with RST when `reset`) and forgets the stream.
  void destroyStream(Stream& stream, bool reset);
  /// Writes a proxy's reply (if any) and closes `socket` without a reset.
  static void closeWithReply(io::Fd& socket, const std::string& reply);
  void resetAllStreams(bool notifyPeer);

  // Session life (the timer, Pings and the idle sweep: SessionTimer.cc).
  void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload = {});
  void sendRst(uint32_t stream, proto::RstCode code, std::string_view reason);
  void sendFirstBytes(Stream& stream, std::string_view bytes);
  void end(const std::string& reason, bool notifyPeer, bool peerGone);
  void reportEnd();  // endHook_'s: tells the handler, which may destroy this session
  void armTimer();
  void onTimer();

  Session& owner_;
  io::Loop& loop_;
  CarrierPtr carrier_;
  Role role_;
  SessionHandler& handler_;
  SessionConfig config_;
  SessionStats stats_;
  Keepalive keepalive_;
  CreditLimits creditLimits_;
  // Before streams_: the streams' output queues give their chunks back when destroyed.
  io::ChunkPool chunkPool_;
  uint64_t committed_ = 0;  // over all streams: bytes in output queues + receiveCredit

  std::unordered_map<uint32_t, std::unique_ptr<Stream>> streams_;
  std::vector<uint32_t> pendingOutput_;    // ids with Stream::flushQueued set
  std::vector<uint32_t> carrierWaiters_;   // ids with Stream::carrierStalled set
  std::vector<uint32_t> grownStreams_;     // ids with Stream::windowGrown set
  std::unordered_set<uint32_t> rejected_;  // unknown ids already answered with Rst
  uint32_t nextStreamId_;
  uint32_t highestPeerId_ = 0;
  DatagramHandler* datagrams_ = nullptr;
  uint32_t highestPeerFlow_ = 0;
  // A peer may open refused streams in a loop: one line per interval says so, with a count.
  io::RateLimitedLog refusedLog_{std::chrono::seconds(5)};
  uint64_t pingCounter_ = 0;
  io::TimePoint pingSentAt_{};  // when Ping(pingCounter_) was queued
  io::Timer timer_{loop_};
  io::TimePoint timerDeadline_{};
  io::TimePoint lastSweep_;
  io::TimePoint startedAt_;
  uint64_t sweepCount_ = 0;
  bool dataSinceSweep_ = false;
  bool started_ = false;
  bool peerHelloSeen_ = false;
  bool ended_ = false;
  io::TickHook flushHook_{loop_, [this] { flushOutputs(); }};
  std::string endReason_;
  io::TickHook endHook_{loop_, [this] { reportEnd(); }};
  // The handler's connect callbacks hold a weak_ptr to this: it may call them after the session
  // is gone (a dial that outlives it).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ferry::mux
