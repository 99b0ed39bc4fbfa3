#include "ops/Operations.h"

#include <unistd.h>

#include <fmt/format.h>

#include "io/Log.h"
#include "io/Socket.h"
#include "ops/ControlSocket.h"
#include "ops/Http.h"

namespace ferry::ops {
namespace {

constexpr io::Duration kRateSampleInterval = std::chrono::seconds(1);
constexpr size_t kRateSamples = 6;  // rates over the last five seconds

std::string_view trimLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  return text;
}

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Operations::Operations(io::Loop& loop, OperationsConfig config, Source source)
    : loop_(loop),
      config_(std::move(config)),
      source_(std::move(source)),
      startTimeSeconds_(unixNow()),
      notifier_(loop, [this] { return snapshotLine(); }),
      reloadHook_([]() -> io::Result<std::string> {
        return std::unexpected(io::Error{ENOTSUP, "reload needs --config"});
      }) {}

io::Result<std::unique_ptr<Operations>> Operations::start(io::Loop& loop, OperationsConfig config,
                                                          Source source) {
  std::unique_ptr<Operations> operations(
      new Operations(loop, std::move(config), std::move(source)));
  if (auto started = operations->startControl(); !started) {
    return std::unexpected(started.error());
  }
  if (auto started = operations->startMetrics(); !started) {
    return std::unexpected(started.error());
  }
  operations->sampleRates();
  return operations;
}

Operations::~Operations() {
  control_.reset();
  if (!controlPath_.empty()) {
    ::unlink(controlPath_.c_str());
  }
}

io::Result<void> Operations::startControl() {
  bool chosen = !config_.controlPath.empty();
  std::string path = config_.controlPath;
  io::Result<io::Fd> fd = std::unexpected(io::Error{});
  if (!chosen) {
    auto defaultPath = defaultControlPath();
    fd = defaultPath ? listenControl(*defaultPath) : std::unexpected(defaultPath.error());
    path = defaultPath.value_or("");
  } else {
    fd = listenControl(path);
  }
  if (!fd) {
    if (chosen) {
      return std::unexpected(fd.error());
    }
    spdlog::warn("no control socket ({}); `ferry status` will not find this process",
                 fd.error().message);
    return {};
  }
  controlPath_ = path;
  control_ = std::make_unique<RequestServer>(
      loop_, std::move(*fd), "control socket " + path,
      RequestServer::Protocol{
          [](std::string_view request) { return request.find('\n') != std::string_view::npos; },
          [this](std::string_view request) { return answerControl(request); },
          "error: request too long\n"});
  spdlog::info("control socket {}", path);
  return {};
}

io::Result<void> Operations::startMetrics() {
  if (config_.metrics.empty()) {
    return {};
  }
  auto address = io::Address::parse(config_.metrics, true, false);
  if (!address) {
    return std::unexpected(address.error());
  }
  auto fd = io::listenTcp(*address, 16);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  std::string bound = io::localAddress(fd->get()).toString();
  metrics_ = std::make_unique<RequestServer>(
      loop_, std::move(*fd), "metrics " + bound,
      RequestServer::Protocol{httpHeadComplete,
                              [this](std::string_view request) {
                                return httpAnswer(request,
                                                  [this] { return prometheusText(snapshot()); });
                              },
                              httpTooLarge()});
  spdlog::info("metrics on http://{}/metrics", bound);
  return {};
}

std::optional<io::Address> Operations::metricsAddress() const {
  if (!metrics_) {
    return std::nullopt;
  }
  return io::localAddress(metrics_->listenFd());
}

void Operations::ready() {
  notifier_.ready();
}

void Operations::stopping() {
  notifier_.stopping();
}

Snapshot Operations::snapshot() const {
  Snapshot snapshot;
  snapshot.role = config_.role;
  snapshot.version = config_.version;
  snapshot.pid = static_cast<int>(::getpid());
  snapshot.uptimeSeconds = std::chrono::duration<double>(io::Clock::now() - startedAt_).count();
  snapshot.startTimeSeconds = startTimeSeconds_;
  snapshot.totals = source_.totals();
  source_.details(snapshot);
  if (rateSamples_.size() >= 2) {
    const RateSample& first = rateSamples_.front();
    const RateSample& last = rateSamples_.back();
    double span = std::chrono::duration<double>(last.at - first.at).count();
    snapshot.sentPerSecond = static_cast<double>(last.sent - first.sent) / span;
    snapshot.receivedPerSecond = static_cast<double>(last.received - first.received) / span;
  }
  return snapshot;
}

std::string Operations::snapshotLine() const {
  return fmt::format("{} {}", config_.role, source_.totals().format());
}

void Operations::sampleRates() {
  mux::SessionStats all = allStats(source_.totals());
  rateSamples_.push_back({io::Clock::now(), all.bytesFromSockets, all.bytesToSockets});
  if (rateSamples_.size() > kRateSamples) {
    rateSamples_.pop_front();
  }
  rateTimer_.armAfter(kRateSampleInterval, [this] { sampleRates(); });
}

std::string Operations::answerControl(std::string_view request) {
  std::string_view command = trimLine(request);
  if (command == "status") {
    return statusJson(snapshot());
  }
  if (command == "status text") {
    return statusTable(snapshot());
  }
  if (command == "reload") {
    auto reloaded = reloadHook_();
    std::string answer =
        reloaded ? "ok: " + *reloaded + "\n" : "error: " + reloaded.error().message + "\n";
    spdlog::info("reload via the control socket: {}", trimLine(answer));
    return answer;
  }
  return fmt::format("error: unknown command '{}' (status, status text, reload)\n",
                     command.substr(0, 64));
}

}  // namespace ferry::ops
