#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "io/Address.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/Socket.h"
#include "io/TcpListener.h"

namespace ferry::bench {

/// The listening socket and the open connections of a benchmark server on one io::Loop.
/// `Connection` has an `io::Fd fd` member; each accepted one is watched for EPOLLIN and its
/// events go to the handler given to the constructor. Connections stay at one address until
/// close(), so handlers may keep references.
template <typename Connection>
class ServerConnections {
 public:
  using EventHandler = std::function<void(Connection&, uint32_t events)>;

  ServerConnections(io::Loop& loop, std::string kind, EventHandler onEvents)
      : loop_(loop), kind_(std::move(kind)), onEvents_(std::move(onEvents)) {}
  ~ServerConnections() {
    for (auto& [fd, connection] : connections_) {
      loop_.unwatch(fd);
    }
  }
  ServerConnections(const ServerConnections&) = delete;
  ServerConnections& operator=(const ServerConnections&) = delete;

  /// Starts listening; returns the bound address (with the real port when asked for port 0).
  io::Result<io::Address> listen(const io::Address& address) {
    auto listener = io::listenTcp(address);
    if (!listener) {
      return std::unexpected(listener.error());
    }
    io::Address bound = io::localAddress(listener->get());
    listener_ = std::make_unique<io::TcpListener>(loop_, std::move(*listener),
                                                  kind_ + " on " + bound.toString(),
                                                  [this](io::Fd fd) { accept(std::move(fd)); });
    return bound;
  }

  /// Unwatches and destroys `connection`, closing its fd.
  void close(Connection& connection) {
    int fd = connection.fd.get();
    loop_.unwatch(fd);
    connections_.erase(fd);
  }

  size_t size() const { return connections_.size(); }

 private:
  void accept(io::Fd fd) {
    int raw = fd.get();
    auto connection = std::make_unique<Connection>();
    connection->fd = std::move(fd);
    Connection& ref = *connection;
    connections_[raw] = std::move(connection);
    loop_.watch(raw, EPOLLIN | EPOLLRDHUP,
                [this, &ref](uint32_t events) { onEvents_(ref, events); });
  }

  io::Loop& loop_;
  std::string kind_;
  EventHandler onEvents_;
  std::unique_ptr<io::TcpListener> listener_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
};

}  // namespace ferry::bench
