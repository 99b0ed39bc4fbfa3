#include "bench/RrClient.h"

#include <cerrno>
#include <functional>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "bench/BlockingIo.h"
#include "bench/LatencyStats.h"
#include "bench/RequestReply.h"
#include "io/Socket.h"
#include "io/Timer.h"

namespace ferry::bench {
namespace {

// How long the server may take to answer the requests in flight at the deadline.
constexpr auto kDrainTimeout = std::chrono::seconds(10);

struct Connection {
  io::Fd fd;
  Request request{};
  size_t requestSent = 0;
  size_t replySize = 0;
  size_t replyReceived = 0;
  io::TimePoint start{};
  bool watchingOut = false;  // EPOLLOUT armed: the request did not fit the socket at once
};

/// What a run measured.
struct Tally {
  LatencyStats latency;  // one sample per completed request
  uint64_t replyBytes = 0;
  io::TimePoint lastReply{};
  std::optional<io::Error> failure;
};

/// One run's state: the connections, the clock and what was measured.
class Run {
 public:
  Run(io::Loop& loop, SizeRange replySizes, io::TimePoint deadline)
      : loop_(loop), replySizes_(replySizes), deadline_(deadline), scratch_(64 * 1024) {}

  /// Starts every connection's first request; the loop then runs until all are done.
  void start(std::vector<Connection>& connections) {
    open_ = connections.size();
    for (Connection& connection : connections) {
      loop_.watch(connection.fd.get(), EPOLLIN,
                  [this, &connection](uint32_t events) { onEvents(connection, events); });
      sendRequest(connection);
    }
  }
  void fail(Connection& connection, io::Error error) {
    if (!tally_.failure) {
      tally_.failure = std::move(error);
    }
    finish(connection);
  }
  const Tally& tally() const { return tally_; }

 private:
  void sendRequest(Connection& connection) {
    connection.replySize = pickReplySize(replySizes_, requestsStarted_++);
    connection.request = encodeRequest(static_cast<uint32_t>(connection.replySize));
    connection.requestSent = 0;
    connection.replyReceived = 0;
    connection.start = io::Clock::now();
    writeRequest(connection);
  }
  void writeRequest(Connection& connection) {
    ssize_t n = ::write(connection.fd.get(), connection.request.data() + connection.requestSent,
                        kRequestSize - connection.requestSent);
    if (n > 0) {
      connection.requestSent += static_cast<size_t>(n);
    } else if (errno != EAGAIN && errno != EINTR) {
      fail(connection, io::systemError("write a request"));
      return;
    }
    // Re-arm only on a change: one epoll_ctl per request would cost the client measurably.
    bool rest = connection.requestSent < kRequestSize;
    if (rest != connection.watchingOut) {
      connection.watchingOut = rest;
      loop_.modify(connection.fd.get(), rest ? EPOLLIN | EPOLLOUT : EPOLLIN);
    }
  }
  void onEvents(Connection& connection, uint32_t events) {
    if ((events & EPOLLOUT) && connection.requestSent < kRequestSize) {
      writeRequest(connection);
    } else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      readReply(connection);
    }
  }
  void readReply(Connection& connection) {
    size_t want = std::min(scratch_.size(), connection.replySize - connection.replyReceived);
    ssize_t n = ::read(connection.fd.get(), scratch_.data(), want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    if (n <= 0) {
      fail(connection, n == 0 ? io::Error{EPROTO, "the server closed a connection mid-reply"}
                              : io::systemError("read a reply"));
      return;
    }
    std::span<const uint8_t> received(scratch_.data(), static_cast<size_t>(n));
    if (!isReplyData(connection.replyReceived, received)) {
      fail(connection,
           io::Error{EPROTO, fmt::format("wrong reply bytes at offset {} of {}",
                                         connection.replyReceived, connection.replySize)});
      return;
    }
    connection.replyReceived += received.size();
    tally_.replyBytes += received.size();
    if (connection.replyReceived == connection.replySize) {
      tally_.lastReply = io::Clock::now();
      tally_.latency.add(tally_.lastReply - connection.start);
      if (tally_.lastReply < deadline_) {
        sendRequest(connection);
      } else {
        finish(connection);
      }
    }
  }
  void finish(Connection& connection) {
    loop_.unwatch(connection.fd.get());
    connection.fd.reset();
    if (--open_ == 0) {
      loop_.stop();
    }
  }

  io::Loop& loop_;
  SizeRange replySizes_;
  io::TimePoint deadline_;
  std::vector<uint8_t> scratch_;
  uint64_t requestsStarted_ = 0;
  size_t open_ = 0;
  Tally tally_;
};

}  // namespace

io::Result<RrResult> runRequestReply(io::Loop& loop, const io::Address& server, size_t connections,
                                     double seconds, SizeRange replySizes, Progress& progress) {
  std::vector<Connection> all(connections);
  if (auto connected = connectEachNonBlocking(server, std::span(all)); !connected) {
    return std::unexpected(connected.error());
  }
  io::TimePoint start = io::Clock::now();
  auto deadline =
      start + std::chrono::duration_cast<io::Duration>(std::chrono::duration<double>(seconds));
  Run run(loop, replySizes, deadline);
  io::Timer progressTimer(loop);
  std::function<void()> showProgress = [&] {
    if (progress.due()) {
      progress.show(fmt::format("rr: {} requests", run.tally().latency.count()));
    }
    progressTimer.armAfter(std::chrono::milliseconds(200), showProgress);
  };
  if (progress.enabled()) {
    progressTimer.armAfter(std::chrono::milliseconds(200), showProgress);
  }
  io::Timer drainTimer(loop);
  drainTimer.arm(deadline + kDrainTimeout, [&] {
    for (Connection& connection : all) {
      if (connection.fd) {
        run.fail(connection, io::Error{ETIMEDOUT, "the server did not answer within 10 s"});
      }
    }
  });
  run.start(all);
  loop.run();  // the timers cancel as they go out of scope
  progress.finish();
  const Tally& tally = run.tally();
  if (tally.failure) {
    return std::unexpected(*tally.failure);
  }
  RrResult result;
  result.connections = connections;
  result.seconds = std::chrono::duration<double>(tally.lastReply - start).count();
  result.requests = tally.latency.count();
  result.replyBytes = tally.replyBytes;
  result.requestsPerSecond =
      result.seconds > 0 ? static_cast<double>(result.requests) / result.seconds : 0;
  result.p50Us = tally.latency.percentileNs(50) / 1e3;
  result.p99Us = tally.latency.percentileNs(99) / 1e3;
  return result;
}

}  // namespace ferry::bench
