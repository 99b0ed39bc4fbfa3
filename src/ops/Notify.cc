#include "ops/Notify.h"

#include <systemd/sd-daemon.h>

#include <cstring>

#include <fmt/format.h>

#include "io/Log.h"

namespace ferry::ops {
namespace {

void send(const std::string& state) {
  // 0 without NOTIFY_SOCKET; a failure to reach systemd must not stop the tunnel.
  if (int sent = ::sd_notify(0, state.c_str()); sent < 0) {
    spdlog::debug("sd_notify failed: {}", std::strerror(-sent));
  }
}

}  // namespace

Notifier::Notifier(io::Loop& loop, std::function<std::string()> status)
    : status_(std::move(status)), timer_(loop) {
  uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdogInterval_ = std::chrono::microseconds(usec / 2);
  }
}

void Notifier::ready() {
  send(fmt::format("READY=1\nSTATUS={}", status_()));
  if (watchdogEnabled()) {
    ping();
  }
}

void Notifier::stopping() {
  send("STOPPING=1\nSTATUS=stopping");
  timer_.cancel();
}

void Notifier::ping() {
  // From a loop timer: if the loop hangs (a hard-mounted share that stopped answering), the
  // pings stop and systemd restarts the service.
  send(fmt::format("WATCHDOG=1\nSTATUS={}", status_()));
  timer_.armAfter(watchdogInterval_, [this] { ping(); });
}

}  // namespace ferry::ops
