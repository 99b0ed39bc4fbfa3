#pragma once

#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "forward/DestinationDialer.h"
#include "forward/ReverseListeners.h"
#include "forward/TargetPolicy.h"
#include "forward/TunnelStats.h"
#include "forward/UdpServer.h"
#include "io/Loop.h"
#include "mux/Carrier.h"
#include "mux/Session.h"

namespace ferry::forward {

/// The server side of a tunnel: runs one session per peer that the acceptor hands over and opens
/// each stream's destination through the TargetPolicy.
///
/// Anyone who can reach the acceptor (write DIR, connect to the port) can start sessions without
/// the key, so sessions that have not yet received their peer's Hello (which, with a key, comes
/// only after the key proof) are bounded: each ends itself after the dead-peer timeout, and while
/// kMaxPendingSessions of them wait, or kMaxSessions sessions run in all, the acceptor is paused.
class TunnelServer : private mux::SessionHandler {
 public:
  static constexpr size_t kMaxPendingSessions = 64;
  static constexpr size_t kMaxSessions = 4096;

  /// `listenPolicy`: where clients' reverse forwards (-R) may listen.
  TunnelServer(io::Loop& loop, mux::CarrierAcceptor& acceptor, TargetPolicy policy,
               mux::SessionConfig config, ListenPolicy listenPolicy = *ListenPolicy::create({}));
  ~TunnelServer() override;

  io::Result<void> start();
  /// Stops accepting peers, ends every session (removing this side's files) and calls `done`.
  void stop(std::function<void()> done);

  TunnelStats stats() const;
  /// Decides the destinations of streams opened from now on; open streams keep their
  /// connections (a reload that narrows --allow does not cut them).
  void setPolicy(TargetPolicy policy) { policy_ = std::move(policy); }
  /// The live sessions (read-only figures).
  std::vector<mux::SessionInfo> sessionInfos() const;
  /// Calls `onIdle` whenever the last live session has ended (a stdio server exits then).
  void setOnIdle(std::function<void()> onIdle) { onIdle_ = std::move(onIdle); }
  /// How long a UDP flow may stay idle before it is closed (default 60 s).
  void setUdpTimeout(io::Duration timeout) { udpTimeout_ = timeout; }

 private:
  void onCarrier(mux::CarrierPtr carrier);
  void finishStopIfIdle();
  /// The session no longer awaits its peer's Hello (it arrived, or the session ended).
  void stopAwaiting(mux::Session& session);
  /// Pauses or resumes the acceptor as the session counts cross their limits.
  void updateCapacity();

  // The handler base is private (it is not part of this class's API), so code outside the class,
  // such as std::make_unique, needs the conversion done here.
  mux::SessionHandler& asHandler() { return *this; }
  void connectStream(std::string_view target, mux::ConnectDone done) override;
  void onSessionEnded(mux::Session& session, const std::string& reason) override;
  void onSessionEstablished(mux::Session& session) override;
  proto::ListenResult onListenRequest(mux::Session& session,
                                      const proto::ListenRequest& request) override;

  io::Loop& loop_;
  mux::CarrierAcceptor& acceptor_;
  TargetPolicy policy_;
  DestinationDialer dialer_{loop_, policy_};
  mux::SessionConfig config_;
  std::unordered_map<mux::Session*, std::unique_ptr<mux::Session>> sessions_;
  std::unordered_set<mux::Session*> awaitingHello_;
  // Each session's UDP flows; erased before their session.
  std::unordered_map<mux::Session*, std::unique_ptr<UdpServer>> udp_;
  io::Duration udpTimeout_ = std::chrono::seconds(60);
  UdpStats udpStats_;
  ReverseListeners reverse_;
  bool acceptorPaused_ = false;
  TunnelStats stats_;
  bool stopping_ = false;
  std::function<void()> onStopped_;
  std::function<void()> onIdle_;
};

}  // namespace ferry::forward
