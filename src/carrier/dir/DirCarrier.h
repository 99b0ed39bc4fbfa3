#pragma once

#include <memory>
#include <string>

#include "carrier/dir/DirOptions.h"
#include "carrier/dir/Inotify.h"
#include "carrier/dir/LaneReader.h"
#include "carrier/dir/LaneWriter.h"
#include "carrier/dir/SessionFolder.h"
#include "carrier/dir/SharedDir.h"
#include "io/Loop.h"
#include "io/TickHook.h"
#include "io/Timer.h"
#include "mux/Carrier.h"
#include "mux/Role.h"

namespace ferry::carrier::dir {

/// One session of the directory carrier: this side's lane (LaneWriter) and the peer's lane
/// (LaneReader) in DIR/ferry-<sid>-d/. Made by DirConnector (client) or DirAcceptor (server).
/// Do not destroy it from inside a listener callback; close() there is fine.
class DirCarrier : public mux::Carrier {
 public:
  struct Parts {
    mux::Role role = mux::Role::Client;
    std::string sessionId;
    std::string dirPath;
    io::Fd dirFd;
    SessionFolder folder;
    FsClass fs;
    bool remote = false;
    bool fuse = false;
    io::Duration pollMin{};
    std::shared_ptr<Inotify> inotify;    // null: poll
    std::unique_ptr<LaneWriter> writer;  // already open()ed in folder
    /// Kept for the carrier's life: its acceptor watches it to know the session is still here.
    std::shared_ptr<void> heldToken;
  };

  static constexpr size_t kShareSocketReadBudget = 1024 * 1024;

  DirCarrier(io::Loop& loop, const DirOptions& options, Parts parts);
  ~DirCarrier() override;

  void setListener(mux::CarrierListener* listener) override { listener_ = listener; }
  void start() override;
  void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) override;
  std::span<uint8_t> reserve(proto::FrameType type, uint32_t stream, size_t max) override;
  void commit(size_t n) override;
  bool congested() const override;
  void close(bool peerGone) override;
  std::string describe() const override;
  mux::CarrierInfo info() const override;
  /// A client's session may wait for a server indefinitely; once claimed, the lane reader's
  /// stuck timeout bounds the wait for the server's first frame.
  bool peerPresentAtStart() const override { return parts_.role == mux::Role::Server; }
  /// 1 MiB on FUSE and network shares (remote), where each lane write is a request to the file
  /// server that costs about 0.4 ms before its first byte (SMB through smbnetfs): writes of
  /// ~800 KB ran at 290-382 MB/s, those of 256 KiB at about 250. Local file systems keep the
  /// default, which served a 4-stream tmpfs transfer better.
  size_t socketReadBudget() const override;
  /// The peer's Window is awaited: the lane reader polls at its tightest again (PollSchedule).
  void creditAwaited() override;

  const std::string& sessionId() const { return parts_.sessionId; }
  bool polling() const { return reader_->polling(); }

 private:
  /// Stops this carrier at once and tells the listener at the end of the tick: a lane can fail
  /// inside the session's own send() or commit() (a write into a mapping whose file was
  /// truncated), and ending the session destroys its streams, one of which is on the stack then.
  void fail(const io::Error& error);
  void reportFailure();
  void armSafetyPoll();
  void removeFiles(bool peerGone);
  /// A frame of `type` left: the reader's stuck deadline may start.
  void afterSend(proto::FrameType type);

  io::Loop& loop_;
  DirOptions options_;
  Parts parts_;
  std::unique_ptr<LaneReader> reader_;
  mux::CarrierListener* listener_ = nullptr;
  io::Timer safetyTimer_{loop_};
  io::Error failure_;
  io::TickHook failureHook_{loop_, [this] { reportFailure(); }};
  proto::FrameType reservedType_ = proto::FrameType::Data;
  bool started_ = false;
  bool failed_ = false;
  bool closed_ = false;
};

}  // namespace ferry::carrier::dir
