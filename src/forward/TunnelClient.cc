#include "forward/TunnelClient.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::forward {
TunnelClient::TunnelClient(io::Loop& loop, mux::CarrierConnector& connector,
                           mux::SessionConfig config)
    : loop_(loop), connector_(connector), config_(config), udp_(loop) {}

TunnelClient::~TunnelClient() = default;

io::Result<io::Address> TunnelClient::addListener(const io::Address& bind, std::string target) {
  auto fd = io::listenTcp(bind);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  io::Address bound = io::localAddress(fd->get());
  auto socket = std::make_unique<io::TcpListener>(
      loop_, std::move(*fd), "listener " + bound.toString(),
      [this, target](io::Fd accepted) { onAccepted(std::move(accepted), target); });
  listeners_.push_back({bind.toString(), bound.toString(), std::move(target), std::move(socket)});
  return bound;
}

bool TunnelClient::removeListener(const io::Address& bind, std::string_view target) {
  std::string key = bind.toString();
  auto found = std::ranges::find_if(listeners_, [&](const Listener& listener) {
    return listener.bind == key && listener.target == target;
  });
  if (found == listeners_.end()) {
    return false;
  }
  // Streams belong to the session, not to the listener: closing the socket leaves them be.
  listeners_.erase(found);
  return true;
}

std::vector<TunnelClient::ForwardInfo> TunnelClient::forwards() const {
  std::vector<ForwardInfo> forwards;
  for (const Listener& listener : listeners_) {
    forwards.push_back({listener.bound, listener.target});
  }
  return forwards;
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
  udp_.attach(*session_);
  associations_.attach(*session_);
  session_->start();
  spdlog::info("session {} opened", session_->describe());
  return {};
}

void TunnelClient::onAccepted(io::Fd socket, const std::string& target) {
  if (!session_) {
    // Between sessions (the peer keeps failing them): refuse promptly rather than hang.
    io::resetAndClose(socket);
    stats_.finished.streamErrors++;
    return;
  }
  session_->openStream(std::move(socket), target);
}

void TunnelClient::openStream(io::Fd socket, std::string target, mux::OnOpenResult onResult,
                              std::string_view firstBytes) {
  if (!session_) {
    stats_.finished.streamErrors++;
    std::string reply = onResult(mux::OpenResult{false, proto::RstCode::Other, "no session"});
    [[maybe_unused]] ssize_t written = ::write(socket.get(), reply.data(), reply.size());
    return;  // closes the socket
  }
  session_->openStream(std::move(socket), std::move(target), std::move(onResult), firstBytes);
}

void TunnelClient::scheduleReconnect(io::Duration delay) {
  reconnectTimer_.armAfter(delay, [this] {
    if (stopping_) {
      return;
    }
    if (auto opened = openSession(); !opened) {
      failureLog_.log(spdlog::level::warn, fmt::format("cannot open a new session: {} (retrying)",
                                                       opened.error().message));
      scheduleReconnect(backoff_.next());
    }
  });
}

void TunnelClient::connectStream(std::string_view target, mux::ConnectDone done) {
  if (!reverse_) {
    done(std::unexpected(
        mux::OpenError{proto::RstCode::NotAllowed, "this client has no reverse forwards (-R)"}));
    return;
  }
  auto socket = reverse_->connect(target);
  if (!socket) {
    done(std::unexpected(
        mux::OpenError{mux::rstCodeForErrno(socket.error().code), socket.error().message}));
    return;
  }
  done(std::move(*socket));
}

void TunnelClient::onSessionEstablished(mux::Session& session) {
  sessionEstablishedAt_ = io::Clock::now();
  if (reverse_) {
    reverse_->requestAll(session);
  }
}

void TunnelClient::onListenResult(mux::Session& session, const proto::ListenResult& result) {
  if (reverse_) {
    reverse_->onResult(session, result);
  }
}

void TunnelClient::onSessionEnded(mux::Session& session, const std::string& reason) {
  bool established = session.established();
  // From the Hello, not from the publish: a directory session may wait long for its server.
  if (established && io::Clock::now() - sessionEstablishedAt_ >= kStableSession) {
    backoff_.reset();
  }
  addStats(stats_.finished, session.stats());
  udp_.detach();
  associations_.detach();
  if (reverse_) {
    reverse_->onSessionEnded();
  }
  if (stopping_) {
    session_.reset();
    if (onStopped_) {
      std::exchange(onStopped_, nullptr)();
    }
    return;
  }
  io::Duration delay = backoff_.next();
  auto delayMs = std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
  if (established) {
    spdlog::info("session {} ended: {}; next session in {} ms", session.describe(), reason,
                 delayMs);
  } else {
    // The session already logged why; sessions failing at once fail alike, so say it rarely.
    failureLog_.log(
        spdlog::level::warn,
        fmt::format("session {} ended before the peer answered; next session in {} ms "
                    "(the delay doubles, up to {} s, while sessions keep failing)",
                    session.describe(), delayMs,
                    std::chrono::duration_cast<std::chrono::seconds>(Backoff::kMax).count()));
  }
  session_.reset();
  scheduleReconnect(delay);
}

void TunnelClient::stop(std::function<void()> done) {
  stopping_ = true;
  listeners_.clear();
  udp_.stop();
  associations_.stop();
  reconnectTimer_.cancel();
  if (!session_) {
    done();
    return;
  }
  onStopped_ = std::move(done);
  session_->shutdown("client stopping");
}

TunnelStats TunnelClient::stats() const {
  TunnelStats result = stats_;
  result.udp = udp_.stats();
  result.socksUdp = associations_.stats();
  if (session_) {
    addStats(result.live, session_->stats());
  }
  return result;
}

std::vector<mux::SessionInfo> TunnelClient::sessionInfos() const {
  if (!session_) {
    return {};
  }
  return {session_->info()};
}

}  // namespace ferry::forward
