// The session's side of its streams: the stream table, the work lists (output to flush, streams
// waiting for the carrier, grown windows) and the end of a stream. Part of Session::Impl
// (declared in SessionImpl.h); the socket side is the Stream class.
#include <cstring>

#include <fmt/format.h>

#include "io/Bug.h"
#include "io/Log.h"
#include "io/Socket.h"
#include "mux/SessionImpl.h"

namespace ferry::mux {
namespace {

using proto::FrameType;

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
  stream.setTarget(std::move(target));
  stream.setOnOpenResult(std::move(onResult));
  stream.sendFirstBytes(firstBytes);
}

Stream& Session::Impl::addStream(uint32_t id, io::Fd socket, Stream::Phase phase) {
  auto owned = std::make_unique<Stream>(*this, streamContext_, id, std::move(socket), phase);
  streamContext_.committed += owned->heldBytes();
  Stream& stream = *owned;
  streams_[id] = std::move(owned);
  stats_.openStreams++;
  stats_.totalStreams++;
  stream.updateEvents();
  return stream;
}

void Session::Impl::sendFrame(FrameType type, uint32_t id, std::span<const uint8_t> payload) {
  send(type, id, payload);
  if (type == FrameType::Blocked) {
    carrier_->creditAwaited();
  }
}

std::span<uint8_t> Session::Impl::reserveData(uint32_t id, size_t max) {
  return carrier_->reserve(FrameType::Data, id, max);
}

void Session::Impl::commitData(size_t n) {
  carrier_->commit(n);
  if (n > 0) {
    keepalive_.onSent(io::Clock::now());
  }
}

bool Session::Impl::carrierCongested() const {
  return carrier_->congested();
}

void Session::Impl::waitForCarrier(Stream& stream) {
  if (!stream.marks.carrierStalled) {
    stream.marks.carrierStalled = true;
    carrierWaiters_.push_back(stream.id());
  }
}

void Session::Impl::onCarrierWritable() {
  std::vector<uint32_t> waiters;
  waiters.swap(carrierWaiters_);
  for (uint32_t id : waiters) {
    auto found = streams_.find(id);
    if (found != streams_.end()) {
      found->second->marks.carrierStalled = false;
      found->second->resumeReading();
    }
  }
}

void Session::Impl::queueFlush(Stream& stream) {
  if (stream.marks.flushQueued) {
    return;
  }
  stream.marks.flushQueued = true;
  pendingOutput_.push_back(stream.id());
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
    if (found == streams_.end() || !found->second->marks.flushQueued) {
      continue;
    }
    found->second->marks.flushQueued = false;
    found->second->writeSocket();
  }
}

void Session::Impl::windowGrown(Stream& stream) {
  if (!stream.marks.windowGrown) {
    stream.marks.windowGrown = true;
    grownStreams_.push_back(stream.id());
  }
}

void Session::Impl::streamClosed(Stream& stream) {
  spdlog::debug("{}: stream {} closed", describe(), stream.id());
  destroyStream(stream, false);
}

void Session::Impl::streamFailed(Stream& stream, const std::string& reason) {
  spdlog::info("{}: stream {} reset: {}", describe(), stream.id(), reason);
  stats_.streamErrors++;
  sendRst(stream.id(), proto::RstCode::Other, reason);
  destroyStream(stream, true);
}

void Session::Impl::connectFailed(Stream& stream, int error) {
  std::string reason = fmt::format("connect failed: {}", std::strerror(error));
  spdlog::info("{}: stream {} {}", describe(), stream.id(), reason);
  stats_.streamErrors++;
  sendRst(stream.id(), rstCodeForErrno(error), reason);
  destroyStream(stream, false);
}

void Session::Impl::destroyStream(Stream& stream, bool reset) {
  if (reset) {
    stream.resetSocket();
  }
  // committed is the sum of every stream's held bytes: less would wrap and stop all credit.
  FERRY_CHECK(stream.heldBytes() <= streamContext_.committed,
              "stream {} holds {} bytes, the session {}", stream.id(), stream.heldBytes(),
              streamContext_.committed);
  streamContext_.committed -= stream.heldBytes();
  stats_.openStreams--;
  streams_.erase(stream.id());  // the stream unregisters and closes its socket
}

void Session::Impl::resetAllStreams(bool notifyPeer) {
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) {
    if (notifyPeer) {
      sendRst(id, proto::RstCode::Other, "session ending");
    }
    stream->abandon();
  }
  stats_.openStreams = 0;
  streamContext_.committed = 0;
  pendingOutput_.clear();
  carrierWaiters_.clear();
  grownStreams_.clear();
}

}  // namespace ferry::mux
