#include "carrier/dir/DirCarrier.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "carrier/dir/Names.h"
#include "io/Log.h"

namespace ferry::carrier::dir {

DirCarrier::DirCarrier(io::Loop& loop, const DirOptions& options, Parts parts)
    : loop_(loop), options_(options), parts_(std::move(parts)) {
  bool client = parts_.role == mux::Role::Client;
  LaneReader::Config config;
  config.folderFd = parts_.folder.fd();
  config.folderPath = parts_.dirPath + "/" + parts_.folder.name();
  config.lane = client ? Names::kServerLane : Names::kClientLane;
  config.sessionId = parts_.sessionId;
  config.remoteReads = parts_.remote;
  config.reopenReads = parts_.fuse;
  config.poll = parts_.remote || options_.forcePoll || !parts_.inotify;
  config.pollMin = parts_.pollMin;
  config.pollMax = options_.pollMax;
  config.stuckTimeout = options_.stuckTimeout;
  config.firstSegmentExists = !client;
  LaneReader::Callbacks callbacks;
  callbacks.onFrame = [this](const proto::Frame& frame) {
    if (!failed_ && !closed_ && listener_ != nullptr) {
      listener_->onFrame(frame);
    }
  };
  callbacks.onSegmentAck = [this](uint64_t segment) { parts_.writer->onSegmentAck(segment); };
  callbacks.onSegmentDone = [this](uint64_t segment) {
    uint8_t payload[sizeof(uint64_t)];
    proto::putU64(payload, segment);
    parts_.writer->send(proto::FrameType::SegmentAck, 0, payload);
  };
  callbacks.onFailed = [this](const io::Error& error) { fail(error); };
  callbacks.ownLaneStalled = [this] { return parts_.writer->writeErrorEpisode(); };
  reader_ = std::make_unique<LaneReader>(loop_, config.poll ? nullptr : parts_.inotify, config,
                                         std::move(callbacks));
  parts_.writer->setCallbacks(
      [this] {
        if (!failed_ && !closed_ && listener_ != nullptr) {
          listener_->onCarrierWritable();
        }
      },
      [this](const io::Error& error) { fail(error); },
      [this](std::span<const uint64_t> unacked) { reader_->freeConsumed(unacked); });
  // An ack our next rotation waits for is polled for as awaited credit is.
  parts_.writer->setOnAckAwaited([this] { creditAwaited(); });
}

DirCarrier::~DirCarrier() = default;

size_t DirCarrier::socketReadBudget() const {
  return parts_.remote ? kShareSocketReadBudget : kDefaultSocketReadBudget;
}

void DirCarrier::start() {
  if (started_ || closed_) {
    return;
  }
  started_ = true;
  reader_->start();
  armSafetyPoll();
}

void DirCarrier::armSafetyPoll() {
  safetyTimer_.armAfter(options_.pollMax, [this] {
    if (failed_ || closed_) {
      return;
    }
    // Local only: a remote fstat answers from a stale cache (SHARES trap 2).
    if (!parts_.remote && parts_.writer->unlinked()) {
      fail(io::Error{.message = fmt::format("lane file {} of session {} was removed",
                                            parts_.writer->currentName(), parts_.sessionId)});
      return;
    }
    if (!parts_.remote && parts_.folder.movedFrom(parts_.dirFd.get())) {
      fail(io::Error{.message = fmt::format("session folder {} was renamed or replaced",
                                            Names::folder(parts_.sessionId))});
      return;
    }
    parts_.writer->trimIdleSpares();
    reader_->safetyPoll();
    if (!failed_ && !closed_) {
      armSafetyPoll();
    }
  });
}

void DirCarrier::send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
  if (closed_ || failed_) {
    return;
  }
  parts_.writer->send(type, stream, payload);
  afterSend(type);
}

std::span<uint8_t> DirCarrier::reserve(proto::FrameType type, uint32_t stream, size_t max) {
  if (closed_ || failed_) {
    return {};
  }
  reservedType_ = type;
  return parts_.writer->reserve(type, stream, max);
}

void DirCarrier::commit(size_t n) {
  if (closed_ || failed_) {
    return;
  }
  parts_.writer->commit(n);  // a cancel too: the writer may have placed the room in a mapping
  if (n > 0) {
    afterSend(reservedType_);
  }
}

void DirCarrier::afterSend(proto::FrameType type) {
  if (type != proto::FrameType::Ping) {  // a heartbeat expects no reply
    reader_->onLocalSend();
  }
}

void DirCarrier::creditAwaited() {
  if (!closed_ && !failed_) {
    reader_->onReplyAwaited();
  }
}

bool DirCarrier::congested() const {
  return parts_.writer->congested();
}

void DirCarrier::fail(const io::Error& error) {
  if (failed_ || closed_) {
    return;
  }
  failed_ = true;
  reader_->stop();
  safetyTimer_.cancel();
  failure_ =
      io::Error{error.code, fmt::format("dir session {}: {}", parts_.sessionId, error.message)};
  failureHook_.request();
}

void DirCarrier::reportFailure() {
  if (!closed_ && listener_ != nullptr) {
    listener_->onCarrierFailed(failure_);
  }
}

void DirCarrier::close(bool peerGone) {
  if (closed_) {
    return;
  }
  closed_ = true;
  safetyTimer_.cancel();
  reader_->stop();
  removeFiles(peerGone);
}

void DirCarrier::removeFiles(bool peerGone) {
  int dirFd = parts_.dirFd.get();
  SessionFolder& folder = parts_.folder;
  bool client = parts_.role == mux::Role::Client;
  // The manifest goes first, so no server claims a session that is being taken apart.
  if (client || peerGone) {
    folder.removeManifest(dirFd);
  }
  parts_.writer->close();
  // A server leaves its claim (the client removes it with the manifest): the session stays
  // claimed, so a client that has not read a frame yet sees a claimed session without the
  // server's lane and fails it after the stuck timeout, rather than waiting forever for a server
  // to claim it again (no server takes a session over).
  if (client || peerGone) {
    folder.removeClaim();
  }
  if (peerGone) {
    folder.removeLane(client ? Names::kServerLane : Names::kClientLane);
  }
  folder.removeFolder(dirFd);
  folder.close();
}

std::string DirCarrier::describe() const {
  return fmt::format("dir session {} ({}, {}, {})", parts_.sessionId, mux::roleName(parts_.role),
                     parts_.fs.name, reader_->polling() ? "polling" : "inotify");
}

mux::CarrierInfo DirCarrier::info() const {
  mux::CarrierInfo info;
  info.kind = "dir";
  info.peer = parts_.sessionId;
  info.dir = parts_.dirPath;
  info.fs = parts_.fs.name;
  if (reader_->polling()) {
    double ms = std::chrono::duration<double, std::milli>(reader_->pollInterval()).count();
    info.tier = fmt::format("poll {:g} ms", ms);
  } else {
    info.tier = "inotify";
  }
  info.lanes = 2;
  info.segmentBytes = parts_.writer->segmentBytes();
  return info;
}

}  // namespace ferry::carrier::dir
