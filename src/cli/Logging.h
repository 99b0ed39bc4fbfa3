#pragma once

#include <string>

namespace ferry::cli {

/// Points spdlog's default logger at stderr with timestamps, at `level` (trace..off).
void setupLogging(const std::string& level);

}  // namespace ferry::cli
