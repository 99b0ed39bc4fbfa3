#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "forward/Backoff.h"
#include "forward/ReverseForwards.h"
#include "forward/TunnelStats.h"
#include "forward/UdpAssociations.h"
#include "forward/UdpClient.h"
#include "io/Address.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/RateLimitedLog.h"
#include "io/TcpListener.h"
#include "io/Timer.h"
#include "mux/Carrier.h"
#include "mux/Session.h"

namespace ferry::forward {

/// The client side of a tunnel: listens on local ports and carries every accepted connection
/// through one session at a time. When the session ends (peer gone, carrier broken) a new one is
/// opened after a Backoff delay; the delay starts over only once a session was established and
/// lived kStableSession, so a peer that fails every session at once is retried ever more slowly.
class TunnelClient : private mux::SessionHandler {
 public:
  /// One --listen or -L, for status figures.
  struct ForwardInfo {
    std::string listen;  // the bound address
    std::string target;  // "" = the server's --to
  };

  /// A session that lived this long after it was established resets the back-off.
  static constexpr io::Duration kStableSession = std::chrono::seconds(10);

  TunnelClient(io::Loop& loop, mux::CarrierConnector& connector, mux::SessionConfig config);
  ~TunnelClient() override;

  /// Listens on `bind`; connections are carried to `target` ("" = the server's default).
  io::Result<io::Address> addListener(const io::Address& bind, std::string target);
  /// Carries `socket` to `target` through the current session (see mux::Session::openStream).
  /// Between sessions the stream fails at once: `onResult` hears so and the socket is closed.
  void openStream(io::Fd socket, std::string target, mux::OnOpenResult onResult,
                  std::string_view firstBytes);
  /// Closes the listener that addListener(bind, target) opened: new connections to it are
  /// refused, while the streams it already carries go on until they end. False when there is
  /// no such listener.
  bool removeListener(const io::Address& bind, std::string_view target);
  /// The -R forwards each session asks its server for (before start()).
  void setReverseForwards(std::unique_ptr<ReverseForwards> forwards) {
    reverse_ = std::move(forwards);
  }
  /// Opens the first session.
  io::Result<void> start();
  /// Stops accepting, resets open streams, ends the session (removing its files) and calls
  /// `done` once everything is closed.
  void stop(std::function<void()> done);

  TunnelStats stats() const;
  /// UDP forwards (-U): add rules before start().
  UdpClient& udp() { return udp_; }
  /// SOCKS5 UDP ASSOCIATE (-D): the associations' relays and flows.
  UdpAssociations& associations() { return associations_; }
  /// The live session, if any (read-only figures).
  std::vector<mux::SessionInfo> sessionInfos() const;
  std::vector<ForwardInfo> forwards() const;

 private:
  void onAccepted(io::Fd socket, const std::string& target);
  io::Result<void> openSession();
  void scheduleReconnect(io::Duration delay);

  // The handler base is private (it is not part of this class's API), so code outside the class,
  // such as std::make_unique, needs the conversion done here.
  mux::SessionHandler& asHandler() { return *this; }
  void connectStream(std::string_view target, mux::ConnectDone done) override;
  void onSessionEnded(mux::Session& session, const std::string& reason) override;
  void onSessionEstablished(mux::Session& session) override;
  void onListenResult(mux::Session& session, const proto::ListenResult& result) override;

  io::Loop& loop_;
  mux::CarrierConnector& connector_;
  mux::SessionConfig config_;
  struct Listener {
    std::string bind;   // as asked for (port 0 stays 0), to find it again
    std::string bound;  // the address it listens on
    std::string target;
    std::unique_ptr<io::TcpListener> socket;
  };
  std::vector<Listener> listeners_;
  UdpClient udp_;  // before session_: the session calls it until destroyed
  UdpAssociations associations_{loop_, udp_};  // the session's datagram handler, after udp_
  std::unique_ptr<ReverseForwards> reverse_;   // none without -R
  std::unique_ptr<mux::Session> session_;
  io::TimePoint sessionEstablishedAt_{};
  TunnelStats stats_;
  Backoff backoff_;
  // Sessions that fail at once fail the same way each time: one line per interval says so.
  io::RateLimitedLog failureLog_{std::chrono::seconds(30)};
  io::Timer reconnectTimer_{loop_};
  bool stopping_ = false;
  std::function<void()> onStopped_;
};

}  // namespace ferry::forward
