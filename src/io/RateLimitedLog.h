#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "io/Clock.h"
#include "io/Log.h"

namespace ferry::io {

/// Logs a message that may repeat many times a second (a failing accept, a peer that keeps
/// failing its sessions) at most once per interval: the first occurrence is logged at once, the
/// next ones within the interval are only counted, and the next line logged says how many were
/// left out. One instance per kind of message.
class RateLimitedLog {
 public:
  explicit RateLimitedLog(Duration interval) : interval_(interval) {}

  /// Whether a line may be logged at `now`; when it may, the number of lines left out since the
  /// previous one. Pure bookkeeping, tested without a clock or a logger.
  std::optional<uint64_t> admit(TimePoint now);
  /// Logs `message` at `level` if admit() allows it, adding the count of lines left out.
  void log(spdlog::level::level_enum level, const std::string& message,
           TimePoint now = Clock::now());
  /// Lines left out since the last one logged.
  uint64_t suppressed() const { return suppressed_; }

 private:
  Duration interval_;
  std::optional<TimePoint> lastLogged_;
  uint64_t suppressed_ = 0;
};

}  // namespace ferry::io
