#pragma once
// What `ferry client` and `ferry server` share: the options of both (the directory carrier, the
// session, the key, operations), what they build from them, and the run until a signal.
#include <signal.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "carrier/dir/DirOptions.h"
#include "carrier/secure/KeyFile.h"
#include "cli/Commands.h"
#include "cli/ConfigFile.h"
#include "cli/OperationsOptions.h"
#include "cli/Reload.h"
#include "io/Error.h"
#include "io/Log.h"
#include "io/Loop.h"
#include "io/Signals.h"
#include "io/Timer.h"
#include "mux/Session.h"

namespace ferry::cli {

struct CommonOptions {
  std::string dir;
  bool poll = false;
  double pollMinMs = 0;  // 0: the carrier's default for the file system
  double pollMaxMs = 50;
  double statsSeconds = 0;
  double deadPeerSeconds = 10;
  uint64_t segmentBytes = 0;  // 0: the carrier's default for the file system
  uint64_t sessionBuffer = mux::SessionConfig{}.sessionBuffer;
  std::string logLevel = "info";
  std::optional<std::string> keyFile;  // none: no --key-file (an empty FILE is refused)
  bool insecureDir = false;
  double udpTimeoutSeconds = 60;
  std::optional<OptionValues> config;  // with --config: the options at start, for reloads
  OperationsOptions operations;        // --control, --metrics, --log-format
};

/// The options of CommonOptions, on `command` (a client or server subcommand).
void addCommonOptions(CLI::App* command, CommonOptions& options);

io::Duration fromMs(double ms);
inline io::Duration fromSeconds(double seconds) {
  return fromMs(seconds * 1000);
}

carrier::dir::DirOptions dirOptions(const CommonOptions& common);
mux::SessionConfig sessionConfig(const CommonOptions& common);
/// The key of --key-file, or none.
io::Result<std::optional<carrier::secure::Key>> loadOptionalKey(const CommonOptions& common);
/// Said once, when a tunnel without a key has started.
void warnIfNoKey(const CommonOptions& common);

/// Exit status for an address error: 2 for a malformed one (usage), 1 for a name that does not
/// resolve (it may resolve later; the command line was right).
int addressErrorStatus(const io::Error& error);

/// Adds the subcommand `name` (ClientOptions or ServerOptions: `Options::common` is its
/// CommonOptions) with `addOwn`'s options, then the common ones. Once parsed, --config is merged
/// in, `check` runs (it throws CLI::ValidationError), and `runner` will call `run`.
template <typename Options>
void addTunnelCommand(CLI::App& app, CommandRunner& runner, const char* name,
                      const char* description, void (*addOwn)(CLI::App*, Options&),
                      void (*check)(const Options&), int (*run)(const Options&)) {
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(name, description);
  addOwn(command, *options);
  addCommonOptions(command, options->common);
  command->callback([options, command, check, run, &runner] {
    options->common.config = applyConfigFile(command);
    check(*options);
    runner = [options, run] { return run(*options); };
  });
}

/// Runs the loop until SIGINT/SIGTERM, then `stop(done)`; prints the stats line on a timer.
/// `ferry reload` and SIGHUP go to `reloader` (none without --config: both are refused).
/// `Tunnel` is a forward::TunnelClient or forward::TunnelServer.
template <typename Tunnel>
int runUntilSignalled(io::Loop& loop, Tunnel& tunnel, const CommonOptions& common,
                      Reloader* reloader) {
  auto operations = startOperations(loop, tunnel, common.operations);
  if (!operations) {
    printError(operations.error().message);
    return 1;
  }
  std::optional<io::SignalWatch> hangupsWithoutConfig;
  if (reloader) {
    (*operations)->setReloadHook([reloader] { return reloader->reload(); });
  } else {
    // A SIGHUP (e.g. systemd's ExecReload) must not kill a tunnel that has nothing to reload.
    hangupsWithoutConfig.emplace(loop, std::initializer_list<int>{SIGHUP}, [](int) {
      spdlog::warn("SIGHUP ignored: reloading needs --config");
    });
  }
  bool stopping = false;
  io::Fd signals = io::watchSignals(loop, {SIGINT, SIGTERM}, [&](int signal) {
    if (stopping) {
      spdlog::warn("second signal {}: exiting without cleanup", signal);
      std::_Exit(1);
    }
    stopping = true;
    spdlog::info("stopping (signal {})", signal);
    (*operations)->stopping();
    tunnel.stop([&loop] { loop.stop(); });
  });
  io::Timer statsTimer(loop);
  std::function<void()> printStats = [&] {
    spdlog::info("stats: {}", tunnel.stats().format());
    statsTimer.armAfter(fromSeconds(common.statsSeconds), printStats);
  };
  if (common.statsSeconds > 0) {
    statsTimer.armAfter(fromSeconds(common.statsSeconds), printStats);
  }
  (*operations)->ready();
  loop.run();
  loop.unwatch(signals.get());
  if (common.statsSeconds > 0) {
    spdlog::info("stats: {}", tunnel.stats().format());
  }
  return 0;
}

}  // namespace ferry::cli
