#pragma once
// Live reload of a client or server started with --config: on SIGHUP (or when reload() is
// called, e.g. by the control socket's `ferry reload`) the command line is parsed again, which
// re-reads the file, and what can change without a restart is applied.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/ConfigFile.h"
#include "forward/TunnelClient.h"
#include "forward/TunnelServer.h"
#include "io/Loop.h"
#include "io/Signals.h"

namespace ferry::cli {

/// Re-reads the configuration of a running tunnel. A new configuration that does not parse, has
/// a bad value, fails the command's checks or cannot be applied (a port that cannot be bound) is
/// rejected whole: the running one stays and the reason is logged. Options that cannot change
/// live (DIR, the carrier, the key file...) are logged as needing a restart and left as they run.
class Reloader {
 public:
  /// What the running tunnel can change at once: its keys, and how to apply their new values
  /// (all of them or, on error, none).
  struct Live {
    std::vector<std::string> keys;
    std::function<io::Result<std::string>(const OptionValues& next)> apply;
  };

  /// `running`: the options the tunnel started with. Watches SIGHUP on `loop` while it lives.
  Reloader(io::Loop& loop, std::string role, OptionValues running, Live live);

  /// Reloads on the loop thread; returns (and logs) what changed, e.g. "2 forwards added, 1
  /// removed", or why the new configuration was rejected.
  io::Result<std::string> reload();

 private:
  io::Result<std::string> tryReload();

  std::string role_;
  OptionValues running_;
  Live live_;
  io::SignalWatch hangups_;  // last: destroyed first, so no reload runs on a half-destroyed object
};

/// A Reloader for a client or server started with --config (`config` holds its options then),
/// none otherwise. Live: the client's --listen and -L; the server's --to and --allow (for new
/// streams).
std::unique_ptr<Reloader> watchReloads(io::Loop& loop, forward::TunnelClient& client,
                                       const std::optional<OptionValues>& config);
std::unique_ptr<Reloader> watchReloads(io::Loop& loop, forward::TunnelServer& server,
                                       const std::optional<OptionValues>& config);

}  // namespace ferry::cli
