#pragma once

#include <string>

namespace ferry::cli {

/// Points spdlog's default logger at stderr with timestamps, at level info.
void setupLogging();
/// Sets the level: trace, debug, info, warn, error or off.
void setLogLevel(const std::string& level);

}  // namespace ferry::cli
