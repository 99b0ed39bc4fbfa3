// The socket side of a session's streams: reading with credit, writing once per tick, half-close
// and reset. Part of Session::Impl (declared in SessionImpl.h).
#include <sys/socket.h>

#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "io/Bug.h"
#include "io/Log.h"
#include "io/Socket.h"
#include "mux/SessionImpl.h"

namespace ferry::mux {
namespace {

using proto::FrameType;

// Fairness: a ready socket gets at most this many bytes and reads per tick, so one bulk stream
// cannot starve many interactive ones (level-triggered epoll reports it again next tick).
// 256 KiB (socat's -b in the comparison) rather than 64 KiB: a 100 KB message then crosses
// each hop in one batch, which took the 100 KB echo over the TCP carrier from ~300 to ~250 us.
constexpr size_t kReadBudgetBytes = 256 * 1024;
constexpr int kMaxReadsPerTick = 4;

}  // namespace

void Session::Impl::openStream(io::Fd socket, std::string target, OnOpenResult onResult,
                               std::string_view firstBytes) {
  if (ended_ || !socket || firstBytes.size() > config_.streamWindow) {
    io::resetAndClose(socket);
    return;
  }
  if (nextStreamId_ > UINT32_MAX - 2) {
    spdlog::warn("{}: stream ids exhausted, refusing a connection", describe());
    io::resetAndClose(socket);
    return;
  }
  uint32_t id = nextStreamId_;
  nextStreamId_ += 2;
  io::setNonBlocking(socket.get());
  spdlog::debug("{}: stream {} opening to '{}'", describe(), id, target);
  send(FrameType::Open, id, proto::textPayload(target));
  Stream& stream = addStream(id, std::move(socket), Stream::Phase::Open);
  stream.target = std::move(target);
  stream.onOpenResult = std::move(onResult);
  sendFirstBytes(stream, firstBytes);
}

void Session::Impl::sendFirstBytes(Stream& stream, std::string_view bytes) {
  while (!bytes.empty()) {
    std::string_view chunk = bytes.substr(0, config_.maxDataFrame);
    send(FrameType::Data, stream.id, proto::textPayload(chunk));
    stream.sendCredit -= chunk.size();
    stats_.bytesFromSockets += chunk.size();
    bytes.remove_prefix(chunk.size());
  }
  updateEvents(stream);
}

Stream& Session::Impl::addStream(uint32_t id, io::Fd socket, Stream::Phase phase) {
  auto owned =
      std::make_unique<Stream>(id, std::move(socket), phase, config_.streamWindow, chunkPool_);
  committed_ += owned->receiveCredit;
  Stream& stream = *owned;
  streams_[id] = std::move(owned);
  stats_.openStreams++;
  stats_.totalStreams++;
  updateEvents(stream);
  return stream;
}

void Session::Impl::updateEvents(Stream& stream) {
  if (!stream.fd) {
    return;  // Phase::Resolving: no socket yet
  }
  uint32_t events = stream.desiredEvents();
  if (events == 0 && stream.hangupSeen) {
    // Epoll reports HUP whatever the mask; with nothing to do, stop watching until credit or
    // output makes the socket interesting again.
    if (stream.watched) {
      loop_.unwatch(stream.fd.get());
      stream.watched = false;
    }
    return;
  }
  if (!stream.watched) {
    Stream* raw = &stream;
    loop_.watch(stream.fd.get(), events,
                [this, raw](uint32_t fired) { onSocketEvent(*raw, fired); });
    stream.watched = true;
  } else if (events != stream.watchedEvents) {
    loop_.modify(stream.fd.get(), events);
  }
  stream.watchedEvents = events;
}

void Session::Impl::onSocketEvent(Stream& stream, uint32_t events) {
  if (stream.phase == Stream::Phase::Connecting) {
    onConnectDone(stream);
    return;
  }
  if (events & EPOLLERR) {
    int error = io::socketError(stream.fd.get());
    resetStream(stream, fmt::format("socket error: {}", std::strerror(error ? error : EIO)), true);
    return;
  }
  if ((events & EPOLLOUT) && !writeSocket(stream)) {
    return;
  }
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
    return;
  }
  if (stream.wantsRead()) {
    readSocket(stream);
  } else if (events & (EPOLLRDHUP | EPOLLHUP)) {
    stream.hangupSeen = true;
    updateEvents(stream);
  }
}

void Session::Impl::onConnectDone(Stream& stream) {
  int error = io::socketError(stream.fd.get());
  if (error != 0) {
    std::string reason = fmt::format("connect failed: {}", std::strerror(error));
    spdlog::info("{}: stream {} {}", describe(), stream.id, reason);
    stats_.streamErrors++;
    sendRst(stream.id, rstCodeForErrno(error), reason);
    destroyStream(stream, false);
    return;
  }
  spdlog::debug("{}: stream {} connected", describe(), stream.id);
  send(FrameType::Opened, stream.id);
  stream.phase = Stream::Phase::Open;
  if (writeSocket(stream)) {
    updateEvents(stream);
  }
}

void Session::Impl::readSocket(Stream& stream) {
  size_t budget = kReadBudgetBytes;
  for (int reads = 0; reads < kMaxReadsPerTick && budget > 0 && stream.sendCredit > 0; ++reads) {
    if (carrier_->congested()) {
      stallOnCarrier(stream);
      break;
    }
    size_t want = std::min<uint64_t>({config_.maxDataFrame, stream.sendCredit, budget});
    ssize_t n = readIntoCarrier(stream, want);
    if (n > 0) {
      auto got = static_cast<size_t>(n);
      stream.sendCredit -= got;
      stats_.bytesFromSockets += got;
      budget -= got;
      if (stream.sendCredit == 0 && got == want) {
        reportBlocked(stream);  // a full read that used the last credit: more is likely waiting
      }
      if (got < want) {
        break;  // drained: another read would only say EAGAIN
      }
    } else if (n == 0) {
      stream.finSent = true;
      send(FrameType::Fin, stream.id);
      if (stream.finished()) {
        closeStream(stream);
        return;
      }
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      break;
    } else {
      resetStream(stream, fmt::format("read: {}", std::strerror(errno)), true);
      return;
    }
  }
  updateEvents(stream);
}

ssize_t Session::Impl::readIntoCarrier(Stream& stream, size_t want) {
  // The socket's bytes land in the carrier's outgoing batch, where the Data frame is finished
  // in place: no user-space copy between the socket and the carrier's write.
  std::span<uint8_t> room = carrier_->reserve(FrameType::Data, stream.id, want);
  if (room.empty()) {
    carrier_->commit(0);
    errno = EAGAIN;  // the carrier takes nothing now (it is failing): read again later
    return -1;
  }
  ssize_t n = ::read(stream.fd.get(), room.data(), room.size());
  int readError = errno;
  carrier_->commit(n > 0 ? static_cast<size_t>(n) : 0);  // 0 cancels: EOF or nothing to read
  if (n > 0) {
    keepalive_.onSent(io::Clock::now());
  }
  errno = readError;
  return n;
}

void Session::Impl::reportBlocked(Stream& stream) {
  if (!stream.blockedSent) {
    stream.blockedSent = true;
    send(FrameType::Blocked, stream.id);
  }
}

void Session::Impl::stallOnCarrier(Stream& stream) {
  if (!stream.carrierStalled) {
    stream.carrierStalled = true;
    carrierWaiters_.push_back(stream.id);
  }
}

void Session::Impl::onCarrierWritable() {
  std::vector<uint32_t> waiters;
  waiters.swap(carrierWaiters_);
  for (uint32_t id : waiters) {
    auto found = streams_.find(id);
    if (found != streams_.end()) {
      found->second->carrierStalled = false;
      updateEvents(*found->second);
    }
  }
}

void Session::Impl::queueOutput(Stream& stream) {
  // A connecting stream writes when the connect completes; a blocked one on EPOLLOUT.
  if (stream.flushQueued || stream.writeBlocked || stream.phase != Stream::Phase::Open) {
    return;
  }
  stream.flushQueued = true;
  pendingOutput_.push_back(stream.id);
  scheduleFlush();
}

void Session::Impl::scheduleFlush() {
  flushHook_.request();
}

void Session::Impl::flushOutputs() {
  std::vector<uint32_t> pending;
  pending.swap(pendingOutput_);
  for (uint32_t id : pending) {
    auto found = streams_.find(id);
    if (found == streams_.end() || !found->second->flushQueued) {
      continue;
    }
    found->second->flushQueued = false;
    writeSocket(*found->second);
  }
}

void Session::Impl::writeDirect(Stream& stream, std::span<const uint8_t> payload) {
  ssize_t n = ::write(stream.fd.get(), payload.data(), payload.size());
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    resetStream(stream, fmt::format("write: {}", std::strerror(errno)), true);
    return;
  }
  size_t taken = n > 0 ? static_cast<size_t>(n) : 0;
  if (taken < payload.size()) {
    // The socket is full: the rest is copied into the stream's chunks (the payload is valid
    // only during the frame's delivery) and written on EPOLLOUT. Queued before the credit
    // accounting, which asks whether the output drained.
    stream.output.append(payload.subspan(taken));
    stream.writeBlocked = true;
    updateEvents(stream);
  }
  if (taken > 0) {
    stats_.bytesToSockets += taken;
    committed_ -= taken;
    if (!stream.writeBlocked) {
      // Credit goes back from the flush at the end of the tick, once per stream, as for queued
      // output: auto-tuning judges the tick's frames together.
      queueOutput(stream);
    }
  }
}

bool Session::Impl::writeSocket(Stream& stream) {
  if (!stream.output.empty()) {
    ssize_t n = stream.output.writeTo(stream.fd.get());
    if (n > 0) {
      stats_.bytesToSockets += static_cast<uint64_t>(n);
      committed_ -= static_cast<uint64_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      resetStream(stream, fmt::format("write: {}", std::strerror(errno)), true);
      return false;
    }
  }
  returnCredit(stream);  // for bytes written now or directly (writeDirect) during the tick
  stream.writeBlocked = !stream.output.empty();
  if (!stream.writeBlocked) {
    if (stream.finReceived && !stream.writeShut) {
      ::shutdown(stream.fd.get(), SHUT_WR);
      stream.writeShut = true;
      if (stream.finished()) {
        closeStream(stream);
        return false;
      }
    }
  }
  updateEvents(stream);
  return true;
}

void Session::Impl::returnCredit(Stream& stream) {
  // Batch Window frames: return credit once half the current window was written out.
  int64_t owed = stream.creditOwed();
  if (stream.finReceived || owed < static_cast<int64_t>(stream.window.size() / 2)) {
    return;
  }
  auto increment = static_cast<uint64_t>(owed);
  increment += growWindow(stream, increment);
  uint8_t payload[4];
  proto::putU32(payload, static_cast<uint32_t>(increment));  // <= 2 windows <= 2 GiB
  send(FrameType::Window, stream.id, payload);
  stream.receiveCredit += increment;
  stream.lowestPeerCredit = stream.receiveCredit;
  committed_ += increment;
}

uint64_t Session::Impl::growWindow(Stream& stream, uint64_t increment) {
  uint64_t growth = stream.window.onReturn(
      creditLimits_, {increment, stream.lowestPeerCredit, stream.output.empty(),
                      committed_ + increment, std::exchange(stream.peerBlocked, false)});
  if (growth == 0) {
    return 0;
  }
  if (!stream.windowGrown) {
    stream.windowGrown = true;
    grownStreams_.push_back(stream.id);
  }
  spdlog::debug("{}: stream {} window grown to {} bytes", describe(), stream.id,
                stream.window.size());
  return growth;
}

void Session::Impl::resetStream(Stream& stream, const std::string& reason, bool notifyPeer) {
  spdlog::info("{}: stream {} reset: {}", describe(), stream.id, reason);
  stats_.streamErrors++;
  if (notifyPeer) {
    sendRst(stream.id, proto::RstCode::Other, reason);
  }
  destroyStream(stream, true);
}

void Session::Impl::closeStream(Stream& stream) {
  spdlog::debug("{}: stream {} closed", describe(), stream.id);
  destroyStream(stream, false);
}

void Session::Impl::closeWithReply(io::Fd& socket, const std::string& reply) {
  if (reply.empty()) {
    return;  // the caller resets the socket
  }
  // Best effort: the socket's send buffer holds nothing before a proxy's reply, so one write
  // takes it; a plain close (no reset) then delivers it ahead of the FIN.
  [[maybe_unused]] ssize_t written = ::write(socket.get(), reply.data(), reply.size());
  socket.reset();
}

void Session::Impl::destroyStream(Stream& stream, bool reset) {
  if (stream.watched) {
    loop_.unwatch(stream.fd.get());
  }
  if (reset) {
    io::resetAndClose(stream.fd);
  }
  uint64_t held = stream.receiveCredit + stream.output.size();
  // committed_ is the sum of every stream's held bytes: less would wrap and stop all credit.
  FERRY_CHECK(held <= committed_, "stream {} holds {} bytes, the session {}", stream.id, held,
              committed_);
  committed_ -= held;
  stats_.openStreams--;
  streams_.erase(stream.id);
}

void Session::Impl::resetAllStreams(bool notifyPeer) {
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) {
    if (stream->watched) {
      loop_.unwatch(stream->fd.get());
    }
    if (notifyPeer) {
      sendRst(id, proto::RstCode::Other, "session ending");
    }
    if (stream->onOpenResult) {
      closeWithReply(stream->fd, stream->onOpenResult(
                                     OpenResult{false, proto::RstCode::Other, "session ended"}));
    }
    io::resetAndClose(stream->fd);
  }
  stats_.openStreams = 0;
  committed_ = 0;
  pendingOutput_.clear();
  carrierWaiters_.clear();
  grownStreams_.clear();
}

}  // namespace ferry::mux
