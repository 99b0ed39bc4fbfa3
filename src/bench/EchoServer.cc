#include "bench/EchoServer.h"

#include <sys/socket.h>

#include <cerrno>

#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::bench {
namespace {

// Bytes read from one connection per readiness event: a fairness cap so one bulk sender cannot
// starve thousands of interactive ones (the loop is level-triggered, so the rest comes next tick).
constexpr size_t kReadPerEvent = 256 * 1024;
// One read(2) at most; also the most a connection queues, as it is not read while it has a queue.
constexpr size_t kScratchSize = 64 * 1024;

}  // namespace

EchoServer::EchoServer(io::Loop& loop, bool discard)
    : loop_(loop),
      discard_(discard),
      connections_(
          loop, "echo server",
          [this](Connection& connection, uint32_t events) { onEvents(connection, events); }),
      scratch_(kScratchSize) {}

void EchoServer::onEvents(Connection& connection, uint32_t events) {
  if (events & EPOLLERR) {
    close(connection);
  } else if (connection.pending) {
    flush(connection);
  } else {
    onReadable(connection);
  }
}

void EchoServer::onReadable(Connection& connection) {
  size_t taken = 0;
  while (taken < kReadPerEvent) {
    ssize_t n = ::read(connection.fd.get(), scratch_.data(), scratch_.size());
    if (n > 0) {
      taken += static_cast<size_t>(n);
      bytesReceived_ += static_cast<uint64_t>(n);
      if (!discard_ && !echo(connection, static_cast<size_t>(n))) {
        return;
      }
      if (connection.pending) {
        return;  // now waiting for EPOLLOUT; reading stops until the echo drains
      }
      continue;
    }
    if (n == 0) {
      finish(connection);
      return;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN) {
      close(connection);  // ECONNRESET and the like: this client is gone
    }
    return;
  }
}

bool EchoServer::echo(Connection& connection, size_t n) {
  size_t written = 0;
  while (written < n) {
    ssize_t w = ::write(connection.fd.get(), scratch_.data() + written, n - written);
    if (w > 0) {
      written += static_cast<size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && errno == EAGAIN) {
      connection.pending = std::make_unique<io::Buffer>();
      connection.pending->append(scratch_.data() + written, n - written);
      loop_.modify(connection.fd.get(), EPOLLOUT);
      return true;
    } else {
      close(connection);
      return false;
    }
  }
  return true;
}

void EchoServer::flush(Connection& connection) {
  io::Buffer& pending = *connection.pending;
  while (!pending.empty()) {
    ssize_t n = pending.writeTo(connection.fd.get());
    if (n < 0 && errno == EAGAIN) {
      return;  // still EPOLLOUT-armed
    }
    if (n < 0 && errno != EINTR) {
      close(connection);
      return;
    }
  }
  connection.pending.reset();
  if (connection.peerClosed) {
    finish(connection);
    return;
  }
  loop_.modify(connection.fd.get(), EPOLLIN | EPOLLRDHUP);
}

void EchoServer::finish(Connection& connection) {
  connection.peerClosed = true;
  if (connection.pending) {
    return;  // flush() finishes once the queued echo is out
  }
  // Everything is echoed and the client sent its FIN: send ours. Both directions are then done,
  // so closing right away cannot discard data (our receive queue is empty, no RST is sent).
  ::shutdown(connection.fd.get(), SHUT_WR);
  close(connection);
}

}  // namespace ferry::bench
