#include "bench/RrServer.h"

#include <cerrno>

#include "io/Socket.h"

namespace ferry::bench {
namespace {

// Requests answered per readiness event: a fairness cap so one client cannot starve the others
// (the loop is level-triggered, so the rest comes next tick).
constexpr size_t kRequestsPerEvent = 64;

}  // namespace

RrServer::RrServer(io::Loop& loop)
    : loop_(loop), connections_(loop, "rr server", [this](Connection& connection, uint32_t events) {
        onEvents(connection, events);
      }) {}

void RrServer::onEvents(Connection& connection, uint32_t events) {
  if (events & EPOLLERR) {
    close(connection);
  } else if (connection.replySize != 0) {
    if (writeReply(connection) == ReplyState::kDone) {
      loop_.modify(connection.fd.get(), EPOLLIN | EPOLLRDHUP);
    }
  } else {
    readRequests(connection);
  }
}

void RrServer::readRequests(Connection& connection) {
  for (size_t answered = 0; answered < kRequestsPerEvent;) {
    // Never more than the current request, so nothing beyond it is buffered here.
    ssize_t n = ::read(connection.fd.get(), connection.request.data() + connection.requestFilled,
                       kRequestSize - connection.requestFilled);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return;
    }
    if (n <= 0) {
      close(connection);  // the client is done (or gone)
      return;
    }
    connection.requestFilled += static_cast<size_t>(n);
    if (connection.requestFilled < kRequestSize) {
      continue;
    }
    auto size = requestedReplySize(connection.request);
    if (!size) {
      close(connection);
      return;
    }
    connection.requestFilled = 0;
    connection.replySize = *size;
    connection.replySent = 0;
    ++answered;
    ReplyState state = writeReply(connection);
    if (state != ReplyState::kDone) {
      if (state == ReplyState::kBlocked) {
        loop_.modify(connection.fd.get(), EPOLLOUT);
      }
      return;
    }
  }
}

RrServer::ReplyState RrServer::writeReply(Connection& connection) {
  std::span<const uint8_t> pattern = replyPattern();
  while (connection.replySent < connection.replySize) {
    size_t at = connection.replySent % pattern.size();
    size_t n = std::min(connection.replySize - connection.replySent, pattern.size() - at);
    ssize_t written = ::write(connection.fd.get(), pattern.data() + at, n);
    if (written > 0) {
      connection.replySent += static_cast<size_t>(written);
    } else if (written < 0 && errno == EAGAIN) {
      return ReplyState::kBlocked;
    } else if (written >= 0 || errno != EINTR) {
      close(connection);
      return ReplyState::kClosed;
    }
  }
  connection.replySize = 0;
  ++requestsAnswered_;
  return ReplyState::kDone;
}

}  // namespace ferry::bench
