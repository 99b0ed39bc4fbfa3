#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "io/Buffer.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/TickHook.h"
#include "mux/Carrier.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::stream {

/// A Carrier over a byte stream: one TCP socket, or a pair of pipes (stdin/stdout). Frames queued
/// during a tick leave with one write(2) at the end of the tick; reads go through read(2), never
/// recv, so pipes and terminals work too. Both fds must be non-blocking and epoll-able.
class StreamCarrier : public mux::Carrier {
 public:
  /// Above this many unwritten bytes the carrier is congested (the session stops reading
  /// sockets); it reports writable again once the backlog is written below it.
  static constexpr size_t kCongestionBytes = 4 * 1024 * 1024;
  /// Bytes read from the channel per readiness event, so one busy channel cannot hold the loop.
  static constexpr size_t kReadBudgetBytes = 256 * 1024;

  /// One fd for both directions (a connected socket).
  StreamCarrier(io::Loop& loop, io::Fd socket, std::string description);
  /// Separate fds for reading and writing (stdin/stdout, two pipes).
  StreamCarrier(io::Loop& loop, io::Fd readFd, io::Fd writeFd, std::string description);
  ~StreamCarrier() override;

  void setListener(mux::CarrierListener* listener) override { listener_ = listener; }
  void start() override;
  void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) override;
  std::span<uint8_t> reserve(proto::FrameType type, uint32_t stream, size_t max) override;
  void commit(size_t n) override;
  bool congested() const override { return unwritten() > kCongestionBytes; }
  void close(bool peerGone) override;
  std::string describe() const override { return description_; }
  /// kind and peer from the description: "tcp to HOST:PORT", "exec 'COMMAND'", "stdio".
  mux::CarrierInfo info() const override;
  bool peerPresentAtStart() const override { return peerPresentAtStart_; }
  /// For pipes to a command that starts the peer (`--exec ssh host ferry server --stdio`): the
  /// command may take long to reach it (a login prompt), so the handshake deadlines start at
  /// the peer's first frame. A command that exits fails the carrier at once (end of input).
  void awaitPeer() { peerPresentAtStart_ = false; }

  /// Bytes queued and not yet accepted by the kernel.
  size_t unwritten() const { return writer_.batch().readable(); }

 private:
  int writeFd() const { return writeFd_ ? writeFd_.get() : readFd_.get(); }
  bool sharedFd() const { return !writeFd_; }
  void onReadable();
  void onWritable();
  /// A frame was added to the batch: note congestion, write at the end of the tick.
  void afterSend();
  void scheduleFlush();
  void flush();
  void updateEvents();
  void fail(const io::Error& error);
  void stopIo();

  io::Loop& loop_;
  io::Fd readFd_;
  io::Fd writeFd_;  // invalid when readFd_ is used both ways
  std::string description_;
  bool peerPresentAtStart_ = true;
  mux::CarrierListener* listener_ = nullptr;
  io::Buffer input_;
  proto::FrameParser parser_;
  proto::FrameWriter writer_;
  bool started_ = false;
  bool closed_ = false;        // close() called or failure reported: no more I/O, no more callbacks
  bool writeBlocked_ = false;  // the last write left bytes: waiting for EPOLLOUT
  bool wasCongested_ = false;  // congested() was seen true since the last onCarrierWritable()
  bool writeWatched_ = false;  // separate write fd registered with the loop
  io::TickHook flushHook_{loop_, [this] { flush(); }};
};

}  // namespace ferry::carrier::stream
