#include "forward/TunnelServer.h"

#include <malloc.h>

#include <vector>

#include "io/Log.h"

namespace ferry::forward {

TunnelServer::TunnelServer(io::Loop& loop, mux::CarrierAcceptor& acceptor, TargetPolicy policy,
                           mux::SessionConfig config, ListenPolicy listenPolicy)
    : loop_(loop),
      acceptor_(acceptor),
      policy_(std::move(policy)),
      config_(config),
      reverse_(loop, std::move(listenPolicy)) {}

TunnelServer::~TunnelServer() = default;

io::Result<void> TunnelServer::start() {
  return acceptor_.start([this](mux::CarrierPtr carrier) { onCarrier(std::move(carrier)); });
}

void TunnelServer::onCarrier(mux::CarrierPtr carrier) {
  if (stopping_) {
    carrier->close(false);
    return;
  }
  auto session = std::make_unique<mux::Session>(loop_, std::move(carrier), mux::Role::Server,
                                                asHandler(), config_);
  mux::Session* raw = session.get();
  sessions_.emplace(raw, std::move(session));
  udp_.emplace(raw, std::make_unique<UdpServer>(loop_, *raw, policy_, udpTimeout_, udpStats_));
  stats_.sessions++;
  // The session itself ends when no Hello arrives within the dead-peer timeout.
  awaitingHello_.insert(raw);
  raw->start();
  spdlog::info("session {} accepted", raw->describe());
  updateCapacity();
}

void TunnelServer::stopAwaiting(mux::Session& session) {
  if (awaitingHello_.erase(&session) != 0) {
    updateCapacity();
  }
}

void TunnelServer::onSessionEstablished(mux::Session& session) {
  stopAwaiting(session);
}

void TunnelServer::updateCapacity() {
  bool full = awaitingHello_.size() >= kMaxPendingSessions || sessions_.size() >= kMaxSessions;
  if (full && !acceptorPaused_ && !stopping_) {
    spdlog::warn(
        "{} sessions, {} of them awaiting their peer's Hello: taking no new sessions until some "
        "end (limits: {} in all, {} awaiting)",
        sessions_.size(), awaitingHello_.size(), kMaxSessions, kMaxPendingSessions);
    acceptor_.pause();
    acceptorPaused_ = true;
  } else if (!full && acceptorPaused_ && !stopping_) {
    spdlog::info("taking new sessions again");
    ::malloc_trim(0);  // after a burst of sessions (a flood of strangers), give the heap back
    acceptor_.resume();
    acceptorPaused_ = false;
  }
}

void TunnelServer::connectStream(std::string_view target, mux::ConnectDone done) {
  dialer_.dial(target, std::move(done));
}

proto::ListenResult TunnelServer::onListenRequest(mux::Session& session,
                                                  const proto::ListenRequest& request) {
  return reverse_.listen(session, request);
}

void TunnelServer::onSessionEnded(mux::Session& session, const std::string& reason) {
  spdlog::info("session {} ended: {}", session.describe(), reason);
  reverse_.forget(session);
  addStats(stats_.finished, session.stats());
  stopAwaiting(session);
  udp_.erase(&session);
  sessions_.erase(&session);
  updateCapacity();
  if (sessions_.empty() && onIdle_ && !stopping_) {
    onIdle_();
  }
  finishStopIfIdle();
}

void TunnelServer::stop(std::function<void()> done) {
  stopping_ = true;
  onStopped_ = std::move(done);
  acceptor_.stop();
  std::vector<mux::Session*> live;
  for (auto& [raw, session] : sessions_) {
    live.push_back(raw);
  }
  for (mux::Session* session : live) {
    session->shutdown("server stopping");
  }
  finishStopIfIdle();
}

void TunnelServer::finishStopIfIdle() {
  if (stopping_ && sessions_.empty() && onStopped_) {
    std::exchange(onStopped_, nullptr)();
  }
}

TunnelStats TunnelServer::stats() const {
  TunnelStats result = stats_;
  result.udp = udpStats_;
  for (const auto& [raw, session] : sessions_) {
    addStats(result.live, session->stats());
  }
  return result;
}

std::vector<mux::SessionInfo> TunnelServer::sessionInfos() const {
  std::vector<mux::SessionInfo> infos;
  infos.reserve(sessions_.size());
  for (const auto& [raw, session] : sessions_) {
    infos.push_back(session->info());
  }
  return infos;
}

}  // namespace ferry::forward
