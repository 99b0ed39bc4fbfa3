#include "carrier/stream/StreamCarrier.h"

#include <sys/epoll.h>

#include <fmt/format.h>

#include "io/Log.h"

namespace ferry::carrier::stream {

StreamCarrier::StreamCarrier(io::Loop& loop, io::Fd socket, std::string description)
    : loop_(loop), readFd_(std::move(socket)), description_(std::move(description)) {}

StreamCarrier::StreamCarrier(io::Loop& loop, io::Fd readFd, io::Fd writeFd, std::string description)
    : loop_(loop),
      readFd_(std::move(readFd)),
      writeFd_(std::move(writeFd)),
      description_(std::move(description)) {}

StreamCarrier::~StreamCarrier() {
  close(false);
}

void StreamCarrier::start() {
  if (started_ || closed_) {
    return;
  }
  started_ = true;
  loop_.watch(readFd_.get(), EPOLLIN | EPOLLRDHUP, [this](uint32_t events) {
    if (events & EPOLLOUT) {
      onWritable();
    }
    if (!closed_ && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
      onReadable();
    }
  });
  if (!sharedFd()) {
    // epoll reports EPOLLERR/EPOLLHUP even with an empty mask, level-triggered: a broken write
    // pipe must fail the carrier, or the loop would spin on it.
    loop_.watch(writeFd_.get(), 0, [this](uint32_t events) {
      if (events & (EPOLLERR | EPOLLHUP)) {
        fail(io::Error{.message = "the peer closed its input"});
      } else {
        onWritable();
      }
    });
    writeWatched_ = true;
  }
  updateEvents();
  if (!writer_.batch().empty()) {
    scheduleFlush();
  }
}

void StreamCarrier::onReadable() {
  size_t budget = kReadBudgetBytes;
  while (!closed_ && budget > 0) {
    ssize_t n = input_.readFrom(readFd_.get(), budget);
    if (n == 0) {
      fail(io::Error{.message = "the peer closed the channel"});
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        break;
      }
      fail(io::systemError("read"));
      return;
    }
    budget -= std::min(budget, static_cast<size_t>(n));
    while (!closed_) {
      proto::DecodeResult result = parser_.next(input_.view());
      if (result.status == proto::DecodeStatus::NeedMore) {
        break;
      }
      if (result.status == proto::DecodeStatus::Invalid) {
        fail(io::protocolError(fmt::format("corrupt input: {}", result.error)));
        return;
      }
      proto::FrameType type = result.frame.header.type;
      if (type == proto::FrameType::Rotate || type == proto::FrameType::SegmentAck) {
        fail(io::protocolError(fmt::format("protocol error: {} frame on a stream carrier",
                                           proto::frameTypeName(type))));
        return;
      }
      // The payload points into input_: consume only after the listener is done with it.
      listener_->onFrame(result.frame);
      input_.consume(result.consumed);
    }
  }
  input_.shrinkIfIdle();
}

void StreamCarrier::send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
  if (closed_) {
    return;
  }
  writer_.append(type, stream, payload);
  afterSend();
}

std::span<uint8_t> StreamCarrier::reserve(proto::FrameType type, uint32_t stream, size_t max) {
  if (closed_) {
    return {};
  }
  return writer_.reserve(type, stream, max);
}

void StreamCarrier::commit(size_t n) {
  if (closed_ || n == 0) {
    return;
  }
  writer_.commit(n);
  afterSend();
}

void StreamCarrier::afterSend() {
  if (congested()) {
    wasCongested_ = true;
  }
  scheduleFlush();
}

void StreamCarrier::scheduleFlush() {
  // Blocked: EPOLLOUT writes. Not started: start() leaves the frames for the first flush.
  if (!writeBlocked_ && started_) {
    flushHook_.request();
  }
}

void StreamCarrier::flush() {
  io::Buffer& batch = writer_.batch();
  if (closed_ || batch.empty()) {
    return;
  }
  ssize_t n = batch.writeTo(writeFd());
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    fail(io::systemError("write"));
    return;
  }
  bool blocked = !batch.empty();
  if (blocked != writeBlocked_) {
    writeBlocked_ = blocked;
    updateEvents();
  }
  if (!blocked) {
    batch.shrinkIfIdle();
  }
  if (wasCongested_ && !congested()) {
    wasCongested_ = false;
    listener_->onCarrierWritable();
  }
}

void StreamCarrier::onWritable() {
  if (!closed_) {
    flush();
  }
}

void StreamCarrier::updateEvents() {
  if (closed_ || !started_) {
    return;
  }
  uint32_t out = writeBlocked_ ? uint32_t{EPOLLOUT} : 0;
  if (sharedFd()) {
    loop_.modify(readFd_.get(), EPOLLIN | EPOLLRDHUP | out);
  } else {
    loop_.modify(writeFd_.get(), out);
  }
}

void StreamCarrier::fail(const io::Error& error) {
  if (closed_) {
    return;
  }
  spdlog::debug("{}: failed: {}", description_, error.message);
  stopIo();
  listener_->onCarrierFailed(error);
}

void StreamCarrier::stopIo() {
  closed_ = true;
  if (started_) {
    loop_.unwatch(readFd_.get());
    if (writeWatched_) {
      loop_.unwatch(writeFd_.get());
    }
  }
}

void StreamCarrier::close(bool /*peerGone*/) {
  if (!closed_) {
    // Best effort: what the kernel takes now (a Bye, the last Rst frames) still reaches the peer.
    io::Buffer& batch = writer_.batch();
    if (!batch.empty()) {
      batch.writeTo(writeFd());
    }
    stopIo();
  }
  readFd_.reset();
  writeFd_.reset();
}

mux::CarrierInfo StreamCarrier::info() const {
  mux::CarrierInfo info;
  size_t space = description_.find(' ');
  info.kind = description_.substr(0, space);
  info.peer = space == std::string::npos ? "" : description_.substr(space + 1);
  return info;
}

}  // namespace ferry::carrier::stream
