#pragma once

#include <cstddef>

#include "bench/RequestReply.h"
#include "bench/ServerConnections.h"
#include "io/Address.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"

namespace ferry::bench {

/// The far end of `ferry bench rr`, on one io::Loop: reads requests (RequestReply.h) on each
/// connection and answers each with the reply size it names, one request at a time. While a
/// reply does not fit the socket, the connection is not read, so a client cannot make the server
/// queue anything: the reply bytes come from the shared pattern, a connection holds only a
/// partial request and a count. A request naming a bad size, EOF or an error closes the
/// connection.
class RrServer {
 public:
  explicit RrServer(io::Loop& loop);
  RrServer(const RrServer&) = delete;
  RrServer& operator=(const RrServer&) = delete;

  /// Starts listening; returns the bound address (with the real port when asked for port 0).
  io::Result<io::Address> listen(const io::Address& address) {
    return connections_.listen(address);
  }
  size_t connectionCount() const { return connections_.size(); }
  size_t requestsAnswered() const { return requestsAnswered_; }

 private:
  struct Connection {
    io::Fd fd;
    Request request{};
    size_t requestFilled = 0;  // bytes of `request` read so far
    size_t replySize = 0;      // the reply being written; 0 when none
    size_t replySent = 0;
  };
  enum class ReplyState { kDone, kBlocked, kClosed };

  void onEvents(Connection& connection, uint32_t events);
  /// Reads requests and answers them until the socket has no more or a reply blocks.
  void readRequests(Connection& connection);
  /// Writes the rest of the current reply; on kBlocked the connection waits for EPOLLOUT.
  ReplyState writeReply(Connection& connection);
  void close(Connection& connection) { connections_.close(connection); }

  io::Loop& loop_;
  ServerConnections<Connection> connections_;
  size_t requestsAnswered_ = 0;
};

}  // namespace ferry::bench
