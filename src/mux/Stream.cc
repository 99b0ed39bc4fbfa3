#include "mux/Stream.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "io/Bug.h"
#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::mux {
namespace {

using proto::FrameType;

// Credit beyond a few windows means a confused peer; clamping keeps the counter sane.
constexpr uint64_t kMaxCredit = uint64_t{1} << 40;

/// Moves a life state forward. Going back (or staying) is a bug here, never the peer's doing:
/// its frames are checked before.
template <typename State>
void advance(State& state, State next, uint32_t id) {
  FERRY_CHECK(next > state, "stream {} state {} -> {} does not move forward", id,
              static_cast<int>(state), static_cast<int>(next));
  state = next;
}

}  // namespace

Stream::Stream(StreamOwner& owner, StreamContext& context, uint32_t id, io::Fd socket,
               Phase initial)
    : owner_(owner),
      context_(context),
      id_(id),
      fd_(std::move(socket)),
      phase_(initial),
      sendCredit_(context.streamWindow),
      receiveCredit_(context.streamWindow),
      window_(context.streamWindow),
      lowestPeerCredit_(context.streamWindow),
      output_(context.pool) {}

Stream::~Stream() {
  unwatch();
}

uint32_t Stream::desiredEvents() const {
  if (phase_ == Phase::Connecting) {
    return EPOLLOUT;
  }
  if (phase_ == Phase::Resolving) {
    return 0;
  }
  // EPOLLRDHUP stays armed while reading is paused, until a hang-up was seen once (it is
  // level-triggered and would fire every tick).
  uint32_t events = 0;
  if (wantsRead()) {
    events |= EPOLLIN | EPOLLRDHUP;
  } else if (read_ == ReadSide::Open && !hangupSeen_) {
    events |= EPOLLRDHUP;
  }
  if (writeBlocked_) {
    events |= EPOLLOUT;
  }
  return events;
}

void Stream::updateEvents() {
  if (!fd_) {
    return;  // Phase::Resolving: no socket yet
  }
  uint32_t events = desiredEvents();
  if (events == 0 && hangupSeen_) {
    // Epoll reports HUP whatever the mask; with nothing to do, stop watching until credit or
    // output makes the socket interesting again.
    unwatch();
    return;
  }
  if (!watched_) {
    context_.loop.watch(fd_.get(), events, [this](uint32_t fired) { onSocketEvent(fired); });
    watched_ = true;
  } else if (events != watchedEvents_) {
    context_.loop.modify(fd_.get(), events);
  }
  watchedEvents_ = events;
}

void Stream::unwatch() {
  if (watched_) {
    context_.loop.unwatch(fd_.get());
    watched_ = false;
  }
}

void Stream::onSocketEvent(uint32_t events) {
  if (phase_ == Phase::Connecting) {
    onConnectDone();
    return;
  }
  if (events & EPOLLERR) {
    int error = io::socketError(fd_.get());
    owner_.streamFailed(*this, fmt::format("socket error: {}", std::strerror(error ? error : EIO)));
    return;
  }
  if ((events & EPOLLOUT) && !writeSocket()) {
    return;
  }
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
    return;
  }
  if (wantsRead()) {
    readSocket();
  } else if (events & (EPOLLRDHUP | EPOLLHUP)) {
    hangupSeen_ = true;
    updateEvents();
  }
}

void Stream::connect(io::Fd socket) {
  fd_ = std::move(socket);
  advance(phase_, Phase::Connecting, id_);
  updateEvents();
}

void Stream::onConnectDone() {
  int error = io::socketError(fd_.get());
  if (error != 0) {
    owner_.connectFailed(*this, error);
    return;
  }
  spdlog::debug("{}: stream {} connected", owner_.describe(), id_);
  owner_.sendFrame(FrameType::Opened, id_);
  advance(phase_, Phase::Open, id_);
  if (writeSocket()) {
    updateEvents();
  }
}

void Stream::sendFirstBytes(std::string_view bytes) {
  while (!bytes.empty()) {
    std::string_view chunk = bytes.substr(0, context_.maxDataFrame);
    owner_.sendFrame(FrameType::Data, id_, proto::textPayload(chunk));
    sendCredit_ -= chunk.size();
    context_.bytesFromSockets += chunk.size();
    bytes.remove_prefix(chunk.size());
  }
  updateEvents();
}

void Stream::readSocket() {
  // Fairness: a ready socket gets at most the carrier's budget per tick, so one bulk stream
  // cannot starve many interactive ones (Carrier::socketReadBudget). Each read either fills its
  // frame or ends the loop, so a tick makes at most budget / maxDataFrame + 1 reads.
  size_t budget = context_.socketReadBudget;
  while (budget > 0 && sendCredit_ > 0) {
    if (owner_.carrierCongested()) {
      owner_.waitForCarrier(*this);
      break;
    }
    size_t want = std::min<uint64_t>({context_.maxDataFrame, sendCredit_, budget});
    ssize_t n = readIntoCarrier(want);
    if (n > 0) {
      auto got = static_cast<size_t>(n);
      sendCredit_ -= got;
      context_.bytesFromSockets += got;
      budget -= got;
      if (sendCredit_ == 0 && got == want) {
        reportBlocked();  // a full read that used the last credit: more is likely waiting
      }
      if (got < want) {
        break;  // drained: another read would only say EAGAIN
      }
    } else if (n == 0) {
      advance(read_, ReadSide::FinSent, id_);
      owner_.sendFrame(FrameType::Fin, id_);
      if (finished()) {
        owner_.streamClosed(*this);
        return;
      }
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      break;
    } else {
      owner_.streamFailed(*this, fmt::format("read: {}", std::strerror(errno)));
      return;
    }
  }
  updateEvents();
}

ssize_t Stream::readIntoCarrier(size_t want) {
  // The socket's bytes land in the carrier's outgoing batch, where the Data frame is finished
  // in place: no user-space copy between the socket and the carrier's write.
  std::span<uint8_t> room = owner_.reserveData(id_, want);
  if (room.empty()) {
    owner_.commitData(0);
    errno = EAGAIN;  // the carrier takes nothing now (it is failing): read again later
    return -1;
  }
  ssize_t n = ::read(fd_.get(), room.data(), room.size());
  int readError = errno;
  owner_.commitData(n > 0 ? static_cast<size_t>(n) : 0);  // 0 cancels: EOF or nothing to read
  errno = readError;
  return n;
}

void Stream::onData(std::span<const uint8_t> payload) {
  if (write_ != WriteSide::Open) {
    owner_.streamFailed(*this, "protocol error: Data after Fin");
    return;
  }
  if (payload.size() > receiveCredit_) {
    owner_.streamFailed(*this,
                        fmt::format("protocol error: {} bytes of Data with {} bytes of credit",
                                    payload.size(), receiveCredit_));
    return;
  }
  receiveCredit_ -= payload.size();
  lowestPeerCredit_ = std::min(lowestPeerCredit_, receiveCredit_);
  lastDataSweep_ = context_.sweepCount;
  context_.dataSinceSweep = true;
  if (output_.empty() && !writeBlocked_ && phase_ == Phase::Open) {
    writeDirect(payload);
    return;
  }
  // Behind queued bytes: copied into the chunks, written in order later in the tick.
  output_.append(payload);
  queueOutput();
}

void Stream::onFin() {
  if (write_ == WriteSide::Open) {
    advance(write_, WriteSide::FinReceived, id_);
  }
  queueOutput();
}

void Stream::onWindow(uint32_t increment) {
  sendCredit_ = std::min(sendCredit_ + increment, kMaxCredit);
  blockedSent_ = false;
  updateEvents();
}

void Stream::reportBlocked() {
  if (!blockedSent_) {
    blockedSent_ = true;
    owner_.sendFrame(FrameType::Blocked, id_);
  }
}

void Stream::queueOutput() {
  // A connecting stream writes when the connect completes; a blocked one on EPOLLOUT.
  if (writeBlocked_ || phase_ != Phase::Open) {
    return;
  }
  owner_.queueFlush(*this);
}

void Stream::writeDirect(std::span<const uint8_t> payload) {
  ssize_t n = ::write(fd_.get(), payload.data(), payload.size());
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    // The payload left the credit (onData) but is neither written nor queued: the session's
    // committed count, which the stream's end subtracts only what it holds from, lets go of it.
    context_.committed -= payload.size();
    owner_.streamFailed(*this, fmt::format("write: {}", std::strerror(errno)));
    return;
  }
  size_t taken = n > 0 ? static_cast<size_t>(n) : 0;
  if (taken < payload.size()) {
    // The socket is full: the rest is copied into the chunks (the payload is valid only during
    // the frame's delivery) and written on EPOLLOUT. Queued before the credit accounting, which
    // asks whether the output drained.
    output_.append(payload.subspan(taken));
    writeBlocked_ = true;
    updateEvents();
  }
  if (taken > 0) {
    context_.bytesToSockets += taken;
    context_.committed -= taken;
    if (!writeBlocked_) {
      // Credit goes back from the flush at the end of the tick, once per stream, as for queued
      // output: auto-tuning judges the tick's frames together.
      queueOutput();
    }
  }
}

bool Stream::writeSocket() {
  if (!output_.empty()) {
    ssize_t n = output_.writeTo(fd_.get());
    if (n > 0) {
      context_.bytesToSockets += static_cast<uint64_t>(n);
      context_.committed -= static_cast<uint64_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      owner_.streamFailed(*this, fmt::format("write: {}", std::strerror(errno)));
      return false;
    }
  }
  returnCredit();  // for bytes written now or directly (writeDirect) during the tick
  writeBlocked_ = !output_.empty();
  if (!writeBlocked_ && write_ == WriteSide::FinReceived) {
    ::shutdown(fd_.get(), SHUT_WR);
    advance(write_, WriteSide::Shut, id_);
    if (finished()) {
      owner_.streamClosed(*this);
      return false;
    }
  }
  updateEvents();
  return true;
}

void Stream::returnCredit() {
  // Batch Window frames: return credit once half the current window was written out.
  int64_t owed = creditOwed();
  if (write_ != WriteSide::Open || owed < static_cast<int64_t>(window_.size() / 2)) {
    return;
  }
  auto increment = static_cast<uint64_t>(owed);
  increment += growWindow(increment);
  uint8_t payload[4];
  proto::putU32(payload, static_cast<uint32_t>(increment));  // <= 2 windows <= 2 GiB
  owner_.sendFrame(FrameType::Window, id_, payload);
  receiveCredit_ += increment;
  lowestPeerCredit_ = receiveCredit_;
  context_.committed += increment;
}

uint64_t Stream::growWindow(uint64_t increment) {
  uint64_t growth = window_.onReturn(
      context_.limits, {increment, lowestPeerCredit_, output_.empty(),
                        context_.committed + increment, std::exchange(peerBlocked_, false)});
  if (growth == 0) {
    return 0;
  }
  owner_.windowGrown(*this);
  spdlog::debug("{}: stream {} window grown to {} bytes", owner_.describe(), id_, window_.size());
  return growth;
}

void Stream::onOpened() {
  if (!onOpenResult_) {
    return;  // nobody asked; an Opened is informative only
  }
  std::string reply = std::exchange(onOpenResult_, nullptr)(OpenResult{true, {}, {}});
  if (!reply.empty()) {
    // Opened precedes the destination's Data on the wire, so the reply goes first.
    output_.append(proto::textPayload(reply));
    context_.committed += reply.size();
    queueOutput();
  }
}

bool Stream::failOpen(proto::RstCode code, std::string_view reason) {
  if (!onOpenResult_) {
    return false;
  }
  std::string reply =
      std::exchange(onOpenResult_, nullptr)(OpenResult{false, code, std::string(reason)});
  unwatch();  // before closeWithReply closes the fd
  closeWithReply(reply);
  return true;
}

void Stream::closeWithReply(const std::string& reply) {
  if (reply.empty()) {
    return;  // the caller resets the socket
  }
  // Best effort: the socket's send buffer holds nothing before a proxy's reply, so one write
  // takes it; a plain close (no reset) then delivers it ahead of the FIN.
  [[maybe_unused]] ssize_t written = ::write(fd_.get(), reply.data(), reply.size());
  fd_.reset();
}

void Stream::resetSocket() {
  unwatch();
  io::resetAndClose(fd_);
}

void Stream::abandon() {
  failOpen(proto::RstCode::Other, "session ended");
  resetSocket();
}

}  // namespace ferry::mux
