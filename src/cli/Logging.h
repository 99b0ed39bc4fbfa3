#pragma once

#include <string>

namespace ferry::cli {

/// Points spdlog's default logger at stderr, one line per message (ops::LineFormatter), at
/// level info, in the format chosen by setLogFormat (text unless told otherwise).
void setupLogging();
/// Sets the level: trace, debug, info, warn, error or off.
void setLogLevel(const std::string& level);
/// "text" or "json"; applies at once if logging is set up, else when it is.
void setLogFormat(const std::string& format);
/// Whether log lines are JSON objects (then errors go through the log too).
bool jsonLogs();

}  // namespace ferry::cli
