#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "bench/ServerConnections.h"
#include "io/Address.h"
#include "io/Buffer.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"

namespace ferry::bench {

/// The far end of the benchmarks, on one io::Loop: echoes every byte back (or, with `discard`,
/// reads and drops them). When a client sends EOF, the server first writes what is still
/// pending, then half-closes (SHUT_WR) and closes. A connection whose echo output cannot drain
/// stops being read until it does, so memory per connection stays bounded.
class EchoServer {
 public:
  EchoServer(io::Loop& loop, bool discard);
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  /// Starts listening; returns the bound address (with the real port when asked for port 0).
  io::Result<io::Address> listen(const io::Address& address) {
    return connections_.listen(address);
  }
  /// Open client connections.
  size_t connectionCount() const { return connections_.size(); }
  /// Total bytes received from all clients.
  uint64_t bytesReceived() const { return bytesReceived_; }

 private:
  struct Connection {
    io::Fd fd;
    // Echo bytes the socket did not take yet; allocated only then, so an idle connection costs
    // no buffer memory.
    std::unique_ptr<io::Buffer> pending;
    bool peerClosed = false;
  };

  void onEvents(Connection& connection, uint32_t events);
  void onReadable(Connection& connection);
  /// Echoes `n` bytes of scratch_ directly; queues what the socket does not take. Returns false
  /// when the connection was closed.
  bool echo(Connection& connection, size_t n);
  /// Writes queued bytes (on EPOLLOUT); once drained, reads again or finishes a closing client.
  void flush(Connection& connection);
  /// Sends our FIN after the client's and closes.
  void finish(Connection& connection);
  void close(Connection& connection) { connections_.close(connection); }

  io::Loop& loop_;
  bool discard_;
  ServerConnections<Connection> connections_;
  std::vector<uint8_t> scratch_;
  uint64_t bytesReceived_ = 0;
};

}  // namespace ferry::bench
