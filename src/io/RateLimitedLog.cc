#include "io/RateLimitedLog.h"

#include <utility>

namespace ferry::io {

std::optional<uint64_t> RateLimitedLog::admit(TimePoint now) {
  if (lastLogged_ && now - *lastLogged_ < interval_) {
    suppressed_++;
    return std::nullopt;
  }
  lastLogged_ = now;
  return std::exchange(suppressed_, 0);
}

void RateLimitedLog::log(spdlog::level::level_enum level, const std::string& message,
                         TimePoint now) {
  std::optional<uint64_t> leftOut = admit(now);
  if (!leftOut) {
    return;
  }
  if (*leftOut == 0) {
    spdlog::log(level, "{}", message);
  } else {
    spdlog::log(level, "{} ({} similar lines left out)", message, *leftOut);
  }
}

}  // namespace ferry::io
