#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "forward/TunnelStats.h"
#include "io/Address.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "mux/Carrier.h"
#include "mux/Session.h"

namespace ferry::forward {

/// The client side of a tunnel: listens on local ports and carries every accepted connection
/// through one session at a time. When the session ends (peer gone, carrier broken) a new one is
/// opened, with back-off while the connector keeps failing.
class TunnelClient : private mux::SessionHandler {
 public:
  TunnelClient(io::Loop& loop, mux::CarrierConnector& connector, mux::SessionConfig config);
  ~TunnelClient() override;

  /// Listens on `bind`; connections are carried to `target` ("" = the server's default).
  io::Result<io::Address> addListener(const io::Address& bind, std::string target);
  /// Opens the first session.
  io::Result<void> start();
  /// Stops accepting, resets open streams, ends the session (removing its files) and calls
  /// `done` once everything is closed.
  void stop(std::function<void()> done);

  TunnelStats stats() const;

 private:
  struct Listener {
    io::Fd fd;
    std::string target;
  };

  void onAcceptable(Listener& listener);
  io::Result<void> openSession();
  void scheduleReconnect();

  // The handler base is private (it is not part of this class's API), so code outside the class,
  // such as std::make_unique, needs the conversion done here.
  mux::SessionHandler& asHandler() { return *this; }
  io::Result<io::Fd> connectStream(std::string_view target) override;
  void onSessionEnded(mux::Session& session, const std::string& reason) override;

  io::Loop& loop_;
  mux::CarrierConnector& connector_;
  mux::SessionConfig config_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unique_ptr<mux::Session> session_;
  TunnelStats stats_;
  io::Duration reconnectDelay_;
  io::Loop::TimerId reconnectTimer_ = 0;
  bool stopping_ = false;
  std::function<void()> onStopped_;
};

}  // namespace ferry::forward
