#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "io/Address.h"
#include "io/Error.h"
#include "io/Loop.h"
#include "io/Timer.h"
#include "ops/Notify.h"
#include "ops/RequestServer.h"
#include "ops/Snapshot.h"

namespace ferry::ops {

struct OperationsConfig {
  std::string role;     // "client" or "server"
  std::string version;  // FERRY_VERSION
  /// --control PATH; empty: the default path, where a failure is only a warning.
  std::string controlPath;
  /// --metrics [HOST:]PORT; empty: no metrics endpoint.
  std::string metrics;
};

/// What a process offers its operators while it runs: the control socket (`status`, `reload`),
/// the Prometheus endpoint, and systemd's readiness and watchdog notifications. All on the loop.
class Operations {
 public:
  /// The tunnel's read-only accessors: `totals` is cheap (sampled every second for the rates),
  /// `details` fills a snapshot's sessions and forwards (one pass over the streams).
  struct Source {
    std::function<forward::TunnelStats()> totals;
    std::function<void(Snapshot&)> details;
  };
  /// Applies the configuration again; returns what changed, or why it cannot.
  using ReloadHook = std::function<io::Result<std::string>()>;

  static io::Result<std::unique_ptr<Operations>> start(io::Loop& loop, OperationsConfig config,
                                                       Source source);
  ~Operations();
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;

  /// Replaces the default hook, which answers "reload needs --config".
  void setReloadHook(ReloadHook hook) { reloadHook_ = std::move(hook); }
  /// The tunnel serves: tells systemd (READY=1) and starts the watchdog pings.
  void ready();
  void stopping();

  Snapshot snapshot() const;
  /// The control socket's path; empty when there is none.
  const std::string& controlPath() const { return controlPath_; }
  std::optional<io::Address> metricsAddress() const;
  /// The control protocol: one request line, one answer (docs/operations.md).
  std::string answerControl(std::string_view request);

 private:
  struct RateSample {
    io::TimePoint at;
    uint64_t sent = 0;
    uint64_t received = 0;
  };

  Operations(io::Loop& loop, OperationsConfig config, Source source);
  io::Result<void> startControl();
  io::Result<void> startMetrics();
  void sampleRates();
  /// The STATUS= text: role and the stats line.
  std::string snapshotLine() const;

  io::Loop& loop_;
  OperationsConfig config_;
  Source source_;
  io::TimePoint startedAt_ = io::Clock::now();
  double startTimeSeconds_;
  std::string controlPath_;
  std::unique_ptr<RequestServer> control_;
  std::unique_ptr<RequestServer> metrics_;
  Notifier notifier_;
  ReloadHook reloadHook_;
  std::deque<RateSample> rateSamples_;  // one a second, the last few seconds
  io::Timer rateTimer_{loop_};
};

}  // namespace ferry::ops
