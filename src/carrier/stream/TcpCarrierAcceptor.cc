#include "carrier/stream/TcpCarrierAcceptor.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>

#include <fmt/format.h>

#include "carrier/stream/StreamCarrier.h"
#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::carrier {
namespace {

// Connections accepted per readiness event, so a connection storm cannot hold the loop.
constexpr int kMaxAcceptsPerTick = 64;

std::string peerName(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return "unknown peer";
  }
  return io::Address(reinterpret_cast<sockaddr*>(&storage), length).toString();
}

}  // namespace

io::Result<void> TcpCarrierAcceptor::start(OnCarrier onCarrier) {
  io::Result<io::Fd> listener = io::listenTcp(address_);
  if (!listener) {
    return std::unexpected(listener.error());
  }
  listener_ = std::move(*listener);
  onCarrier_ = std::move(onCarrier);
  paused_ = true;
  resume();
  return {};
}

void TcpCarrierAcceptor::stop() {
  if (listener_) {
    pause();
    listener_.reset();
  }
}

void TcpCarrierAcceptor::pause() {
  if (listener_ && !paused_) {
    loop_.unwatch(listener_.get());
    paused_ = true;
  }
}

void TcpCarrierAcceptor::resume() {
  if (listener_ && paused_) {
    loop_.watch(listener_.get(), EPOLLIN, [this](uint32_t) { onAcceptable(); });
    paused_ = false;
  }
}

io::Address TcpCarrierAcceptor::localAddress() const {
  return io::localAddress(listener_.get());
}

void TcpCarrierAcceptor::onAcceptable() {
  for (int i = 0; i < kMaxAcceptsPerTick && listener_ && !paused_; ++i) {
    io::Fd socket = io::acceptTcp(listener_.get());
    if (!socket) {
      if (errno != EAGAIN && errno != EINTR) {
        spdlog::warn("tcp carrier on {}: accept: {}", address_.toString(), std::strerror(errno));
      }
      return;
    }
    std::string description = fmt::format("tcp from {}", peerName(socket.get()));
    onCarrier_(std::make_unique<StreamCarrier>(loop_, std::move(socket), std::move(description)));
  }
}

}  // namespace ferry::carrier
