#include "forward/ProxyServer.h"

#include <unistd.h>

#include <fmt/format.h>

#include "forward/HttpProxy.h"
#include "io/Log.h"
#include "io/Socket.h"
#include "io/Timer.h"

namespace ferry::forward {

struct ProxyServer::Handshake {
  explicit Handshake(io::Loop& loop) : timer(loop) {}
  io::Fd fd;
  std::string input;  // received and not yet consumed
  SocksHandshake socks;
  io::Timer timer;
};

namespace {

std::span<const uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

/// Replies are a few bytes into a socket that has sent nothing yet: one write takes them.
bool writeAll(int fd, std::string_view bytes) {
  return bytes.empty() ||
         ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

}  // namespace

ProxyServer::ProxyServer(io::Loop& loop, Options options, StreamOpener opener,
                         UdpAssociator associator)
    : loop_(loop),
      options_(std::move(options)),
      opener_(std::move(opener)),
      associator_(std::move(associator)) {}

ProxyServer::~ProxyServer() {
  for (auto& [fd, handshake] : handshakes_) {
    loop_.unwatch(fd);
  }
}

const char* ProxyServer::kindName() const {
  return options_.kind == Kind::Socks ? "SOCKS" : "HTTP proxy";
}

io::Result<io::Address> ProxyServer::listen(const io::Address& bind) {
  auto fd = io::listenTcp(bind);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  io::Address bound = io::localAddress(fd->get());
  listener_ = std::make_unique<io::TcpListener>(
      loop_, std::move(*fd), fmt::format("{} listener {}", kindName(), bound.toString()),
      [this](io::Fd socket) { onAccepted(std::move(socket)); });
  return bound;
}

void ProxyServer::onAccepted(io::Fd socket) {
  if (handshakes_.size() >= options_.maxHandshakes) {
    spdlog::warn("{}: {} handshakes in progress, closing a new connection", kindName(),
                 handshakes_.size());
    return;
  }
  io::setNonBlocking(socket.get());
  int fd = socket.get();
  auto handshake = std::make_unique<Handshake>(loop_);
  handshake->fd = std::move(socket);
  handshake->socks = SocksHandshake(options_.credentials);
  handshake->timer.armAfter(options_.handshakeTimeout,
                            [this, fd] { drop(fd, "handshake timed out"); });
  handshakes_.emplace(fd, std::move(handshake));
  loop_.watch(fd, EPOLLIN | EPOLLRDHUP, [this, fd](uint32_t) { onReadable(fd); });
}

void ProxyServer::onReadable(int fd) {
  auto found = handshakes_.find(fd);
  if (found == handshakes_.end()) {
    return;
  }
  Handshake& handshake = *found->second;
  size_t limit = options_.kind == Kind::Socks ? SocksHandshake::kMaxInput : kMaxHttpHead;
  char buffer[4096];
  size_t want = std::min(sizeof buffer, limit + 1 - std::min(limit, handshake.input.size()));
  ssize_t n = ::read(fd, buffer, want);
  if (n == 0) {
    drop(fd, "closed by the client during the handshake");
    return;
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      drop(fd, fmt::format("read: {}", std::strerror(errno)));
    }
    return;
  }
  handshake.input.append(buffer, static_cast<size_t>(n));
  advance(handshake);
}

bool ProxyServer::advance(Handshake& handshake) {
  // Each step consumes a whole message, so pipelined messages (a greeting, its credentials and
  // the request in one segment) take a few rounds; every round consumes bytes or stops.
  while (true) {
    ProxyStep step = options_.kind == Kind::Socks ? handshake.socks.feed(bytesOf(handshake.input))
                                                  : parseHttpProxyRequest(bytesOf(handshake.input));
    if (step.outcome == ProxyStep::Outcome::Connect) {
      handOver(handshake, std::move(step));
      return false;
    }
    if (step.outcome == ProxyStep::Outcome::Associate) {
      associate(handshake, step.target);
      return false;
    }
    if (!writeAll(handshake.fd.get(), step.reply)) {
      drop(handshake.fd.get(), "the client does not read its replies");
      return false;
    }
    if (step.outcome == ProxyStep::Outcome::Close) {
      drop(handshake.fd.get(), step.error);
      return false;
    }
    handshake.input.erase(0, step.consumed);
    if (step.consumed == 0 || handshake.input.empty()) {
      return true;
    }
  }
}

io::Fd ProxyServer::release(Handshake& handshake) {
  int fd = handshake.fd.get();
  loop_.unwatch(fd);
  io::Fd socket = std::move(handshake.fd);
  handshakes_.erase(fd);  // destroys `handshake`
  return socket;
}

void ProxyServer::associate(Handshake& handshake, const std::string& source) {
  if (!associator_) {
    writeAll(handshake.fd.get(), socks5Reply(Socks5Reply::CommandNotSupported));
    drop(handshake.fd.get(), "UDP ASSOCIATE is not supported here");
    return;
  }
  spdlog::debug("{}: UDP ASSOCIATE from source {}", kindName(), source);
  associator_(release(handshake), source);
}

void ProxyServer::handOver(Handshake& handshake, ProxyStep step) {
  // Bytes the client sent after its request (it need not wait for the reply) go first.
  std::string firstBytes = std::move(step.firstBytes);
  firstBytes.append(handshake.input, std::min(step.consumed, handshake.input.size()));
  mux::OnOpenResult onResult;
  std::string target = step.target;
  const char* kind = kindName();
  if (options_.kind == Kind::Socks) {
    onResult = [socks = handshake.socks, target, kind](const mux::OpenResult& result) {
      if (!result.opened) {
        spdlog::info("{}: CONNECT {} failed: {}", kind, target, result.reason);
      }
      return socks.replyFor(result);
    };
  } else {
    onResult = [connect = step.httpConnect, target, kind](const mux::OpenResult& result) {
      if (!result.opened) {
        spdlog::info("{}: {} failed: {}", kind, target, result.reason);
      }
      return httpProxyReplyFor(connect, result);
    };
  }
  io::Fd socket = release(handshake);
  spdlog::debug("{}: stream to {}", kind, target);
  opener_(std::move(socket), std::move(target), std::move(onResult), firstBytes);
}

void ProxyServer::drop(int fd, const std::string& why) {
  auto found = handshakes_.find(fd);
  if (found == handshakes_.end()) {
    return;
  }
  spdlog::info("{}: connection closed: {}", kindName(), why);
  // Unread bytes would make the close a reset, which may discard the error reply on its way:
  // drain what is there already (bounded).
  char sink[4096];
  for (int i = 0; i < 16 && ::read(fd, sink, sizeof sink) > 0; ++i) {
  }
  loop_.unwatch(fd);
  // A plain close (which cancels its timer): the error reply written before still arrives.
  handshakes_.erase(found);
}

}  // namespace ferry::forward
