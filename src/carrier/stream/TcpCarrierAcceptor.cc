#include "carrier/stream/TcpCarrierAcceptor.h"

#include <sys/socket.h>

#include <fmt/format.h>

#include "carrier/stream/StreamCarrier.h"
#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::carrier::stream {
namespace {

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
  onCarrier_ = std::move(onCarrier);
  listener_ = std::make_unique<io::TcpListener>(
      loop_, std::move(*listener), "tcp carrier on " + address_.toString(),
      [this](io::Fd socket) { onAccepted(std::move(socket)); });
  return {};
}

void TcpCarrierAcceptor::stop() {
  listener_.reset();
}

void TcpCarrierAcceptor::pause() {
  if (listener_) {
    listener_->pause();
  }
}

void TcpCarrierAcceptor::resume() {
  if (listener_) {
    listener_->resume();
  }
}

io::Address TcpCarrierAcceptor::localAddress() const {
  return io::localAddress(listener_->fd());
}

void TcpCarrierAcceptor::onAccepted(io::Fd socket) {
  std::string description = fmt::format("tcp from {}", peerName(socket.get()));
  onCarrier_(std::make_unique<StreamCarrier>(loop_, std::move(socket), std::move(description)));
}

}  // namespace ferry::carrier::stream
