#include "forward/TunnelClient.h"

#include <cstring>

#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::forward {
namespace {
// Back-off between failed attempts to open a session (e.g. the directory is unreachable).
constexpr io::Duration kFirstReconnectDelay = std::chrono::milliseconds(100);
constexpr io::Duration kMaxReconnectDelay = std::chrono::seconds(5);
// Connections accepted per listener per tick, so a connect storm cannot starve the streams.
constexpr int kMaxAcceptsPerTick = 64;
}  // namespace

TunnelClient::TunnelClient(io::Loop& loop, mux::CarrierConnector& connector,
                           mux::SessionConfig config)
    : loop_(loop), connector_(connector), config_(config), reconnectDelay_(kFirstReconnectDelay) {}

TunnelClient::~TunnelClient() {
  for (auto& listener : listeners_) {
    loop_.unwatch(listener->fd.get());
  }
  loop_.cancelTimer(reconnectTimer_);
}

io::Result<io::Address> TunnelClient::addListener(const io::Address& bind, std::string target) {
  auto fd = io::listenTcp(bind);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  auto listener = std::make_unique<Listener>(Listener{std::move(*fd), std::move(target)});
  Listener* raw = listener.get();
  loop_.watch(raw->fd.get(), EPOLLIN, [this, raw](uint32_t) { onAcceptable(*raw); });
  io::Address bound = io::localAddress(raw->fd.get());
  listeners_.push_back(std::move(listener));
  return bound;
}

io::Result<void> TunnelClient::start() {
  return openSession();
}

io::Result<void> TunnelClient::openSession() {
  auto carrier = connector_.connect();
  if (!carrier) {
    return std::unexpected(carrier.error());
  }
  session_ = std::make_unique<mux::Session>(loop_, std::move(*carrier), mux::Role::Client,
                                            asHandler(), config_);
  stats_.sessions++;
  session_->start();
  spdlog::info("session {} opened", session_->describe());
  return {};
}

void TunnelClient::onAcceptable(Listener& listener) {
  for (int i = 0; i < kMaxAcceptsPerTick; ++i) {
    io::Fd socket = io::acceptTcp(listener.fd.get());
    if (!socket) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        spdlog::warn("accept failed: {}", std::strerror(errno));
      }
      return;
    }
    if (!session_) {
      // Between sessions (the connector is failing): refuse promptly rather than hang.
      io::resetAndClose(socket);
      stats_.finished.streamErrors++;
      continue;
    }
    session_->openStream(std::move(socket), listener.target);
  }
}

void TunnelClient::scheduleReconnect() {
  reconnectTimer_ = loop_.addTimerAfter(reconnectDelay_, [this] {
    reconnectTimer_ = 0;
    if (stopping_) {
      return;
    }
    if (auto opened = openSession(); !opened) {
      spdlog::warn("cannot open a new session: {} (retrying)", opened.error().message);
      reconnectDelay_ = std::min(reconnectDelay_ * 2, kMaxReconnectDelay);
      scheduleReconnect();
    } else {
      reconnectDelay_ = kFirstReconnectDelay;
    }
  });
}

io::Result<io::Fd> TunnelClient::connectStream(std::string_view) {
  return std::unexpected(io::Error{EACCES, "this client does not accept streams from its peer"});
}

void TunnelClient::onSessionEnded(mux::Session& session, const std::string& reason) {
  spdlog::info("session {} ended: {}", session.describe(), reason);
  addStats(stats_.finished, session.stats());
  session_.reset();
  if (stopping_) {
    if (onStopped_) {
      std::exchange(onStopped_, nullptr)();
    }
    return;
  }
  scheduleReconnect();
}

void TunnelClient::stop(std::function<void()> done) {
  stopping_ = true;
  for (auto& listener : listeners_) {
    loop_.unwatch(listener->fd.get());
  }
  listeners_.clear();
  loop_.cancelTimer(reconnectTimer_);
  if (!session_) {
    done();
    return;
  }
  onStopped_ = std::move(done);
  session_->shutdown("client stopping");
}

TunnelStats TunnelClient::stats() const {
  TunnelStats result = stats_;
  if (session_) {
    addStats(result.live, session_->stats());
  }
  return result;
}

}  // namespace ferry::forward
