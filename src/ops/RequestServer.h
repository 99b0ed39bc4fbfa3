#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "io/Fd.h"
#include "io/Loop.h"
#include "io/RateLimitedLog.h"
#include "io/TcpListener.h"
#include "io/Timer.h"

namespace ferry::ops {

/// Serves one request per connection on the loop, without a thread: reads until the request is
/// whole (or the peer's end of input), answers, writes the answer as the socket takes it and
/// closes. The control socket and /metrics use it. Each connection is bounded in request size
/// and in time, and the number of connections is bounded, so a slow or stuck client can neither
/// block the loop nor hold memory: it is dropped at its deadline.
class RequestServer {
 public:
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr size_t kMaxConnections = 16;
  static constexpr io::Duration kDeadline = std::chrono::seconds(5);

  struct Protocol {
    /// Whether `request` (what was read so far) is whole.
    std::function<bool(std::string_view request)> complete;
    /// The answer to a whole request, or to what came before the peer's end of input.
    std::function<std::string(std::string_view request)> respond;
    /// The answer when kMaxRequestBytes arrived without a whole request.
    std::string tooLarge;
  };

  /// Serves `listenFd` (listening, non-blocking: a TCP or a Unix socket); `name` for logs.
  RequestServer(io::Loop& loop, io::Fd listenFd, std::string name, Protocol protocol);
  ~RequestServer();
  RequestServer(const RequestServer&) = delete;
  RequestServer& operator=(const RequestServer&) = delete;

  int listenFd() const { return listener_->fd(); }

 private:
  struct Connection {
    explicit Connection(io::Loop& loop) : deadline(loop) {}
    io::Fd fd;
    std::string request;
    std::string answer;
    size_t written = 0;
    bool draining = false;  // answered; reading until the client closes
    io::Timer deadline;
  };

  void onAccepted(io::Fd socket);
  void onEvent(Connection& connection, uint32_t events);
  void readRequest(Connection& connection);
  void answer(Connection& connection, std::string text);
  void writeAnswer(Connection& connection);
  void drain(Connection& connection);
  void drop(int fd);

  io::Loop& loop_;
  std::string name_;
  Protocol protocol_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::unique_ptr<io::TcpListener> listener_;
  io::RateLimitedLog refusedLog_{std::chrono::seconds(30)};
};

}  // namespace ferry::ops
