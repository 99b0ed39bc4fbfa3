#pragma once

#include <functional>
#include <string>

#include "io/Loop.h"
#include "io/Timer.h"

namespace ferry::ops {

/// systemd's notification protocol (Type=notify): READY=1 once the tunnel serves, STATUS= lines,
/// and WATCHDOG=1 from the loop at half of WatchdogSec=, so a stuck loop gets the service
/// restarted. Without NOTIFY_SOCKET (not started by systemd) every call is a no-op.
class Notifier {
 public:
  /// `status` gives the STATUS= text sent with each watchdog ping.
  Notifier(io::Loop& loop, std::function<std::string()> status);
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void ready();
  void stopping();
  /// Whether systemd asked for watchdog pings (WATCHDOG_USEC for this process).
  bool watchdogEnabled() const { return watchdogInterval_ > io::Duration::zero(); }

 private:
  void ping();

  std::function<std::string()> status_;
  io::Duration watchdogInterval_{};
  io::Timer timer_;
};

}  // namespace ferry::ops
