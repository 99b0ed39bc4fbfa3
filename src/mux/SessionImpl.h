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
/// are in SessionImpl.cc, its timer, Pings and idle sweep in SessionTimer.cc, the stream table
/// and work lists in SessionStreams.cc; each stream's socket side is a Stream, which sees the
/// session only as its StreamOwner.
class Session::Impl : public CarrierListener, public StreamOwner {
 public:
  Impl(Session& owner, io::Loop& loop, CarrierPtr carrier, Role role, SessionHandler& handler,
       SessionConfig config);
  ~Impl();

  void start();
  void openStream(io::Fd socket, std::string target, OnOpenResult onResult,
                  std::string_view firstBytes);
  void requestListen(const proto::ListenRequest& request);
  void shutdown(const std::string& reason);
  // CarrierListener: the carrier reports to the implementation directly.
  void onFrame(const proto::Frame& frame) override;
  void onCarrierFailed(const io::Error& error) override;
  void onCarrierWritable() override;

  // Datagram flows (SessionDatagrams.cc).
  void setDatagramHandler(DatagramHandler* handler) { datagrams_ = handler; }
  void openFlow(uint32_t flow, std::string_view target);
  bool sendDatagram(uint32_t flow, std::span<const uint8_t> payload);
  void closeFlow(uint32_t flow, proto::FlowCloseReason reason);

  bool established() const { return peerHelloSeen_; }
  const SessionStats& stats() {
    stats_.bufferBytes = chunkPool_.heldBytes();
    stats_.bytesFromSockets = streamContext_.bytesFromSockets;
    stats_.bytesToSockets = streamContext_.bytesToSockets;
    return stats_;
  }
  std::string describe() const override;
  SessionInfo info();

 private:
  // Frames from the peer.
  void onHello(const proto::Frame& frame);
  /// Data, Fin, Rst, Window and Opened: frames about one stream.
  void onStreamFrame(const proto::Frame& frame);
  void onOpen(uint32_t id, std::string_view target);
  void onRst(Stream& stream, std::span<const uint8_t> payload);
  /// The handler's answer for a stream in Phase::Resolving.
  void onConnectResult(uint32_t id, ConnectResult result);
  void onWindow(Stream& stream, std::span<const uint8_t> payload);
  void onBlocked(Stream& stream, std::span<const uint8_t> payload);
  void onUnknownStream(const proto::FrameHeader& header);
  void onPing(std::span<const uint8_t> payload);
  /// Listen and ListenResult (SessionListen.cc).
  void onListenFrame(const proto::Frame& frame);
  bool isPastStream(uint32_t id) const;
  void onDatagramFrame(const proto::Frame& frame);
  void onFlowOpen(uint32_t flow, std::string_view target);

  // The stream table and work lists (SessionStreams.cc).
  Stream& addStream(uint32_t id, io::Fd socket, Stream::Phase phase);
  /// Once per second from the session timer: grown windows of streams that received nothing for
  /// a whole interval fall back to the initial window, and an idle session frees pooled chunks.
  void sweepIdle(io::TimePoint now);
  void scheduleFlush();
  void flushOutputs();
  /// Closes (with RST when `reset`) and forgets the stream.
  void destroyStream(Stream& stream, bool reset);
  void resetAllStreams(bool notifyPeer);

  // StreamOwner: what the streams ask of the session.
  void sendFrame(proto::FrameType type, uint32_t id, std::span<const uint8_t> payload) override;
  std::span<uint8_t> reserveData(uint32_t id, size_t max) override;
  void commitData(size_t n) override;
  bool carrierCongested() const override;
  void waitForCarrier(Stream& stream) override;
  void queueFlush(Stream& stream) override;
  void windowGrown(Stream& stream) override;
  void streamClosed(Stream& stream) override;
  void streamFailed(Stream& stream, const std::string& reason) override;
  void connectFailed(Stream& stream, int error) override;

  // Session life (the timer, Pings and the idle sweep: SessionTimer.cc).
  void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload = {});
  void sendRst(uint32_t stream, proto::RstCode code, std::string_view reason);
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
  // Before streams_: the streams' output queues give their chunks back when destroyed.
  io::ChunkPool chunkPool_;
  StreamContext streamContext_;

  std::unordered_map<uint32_t, std::unique_ptr<Stream>> streams_;
  std::vector<uint32_t> pendingOutput_;    // ids with marks.flushQueued set
  std::vector<uint32_t> carrierWaiters_;   // ids with marks.carrierStalled set
  std::vector<uint32_t> grownStreams_;     // ids with marks.windowGrown set
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
