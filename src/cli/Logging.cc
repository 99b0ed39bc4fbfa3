#include "cli/Logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace ferry::cli {

void setupLogging() {
  auto logger = spdlog::stderr_logger_mt("ferry");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%f %l %v");
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void setLogLevel(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace ferry::cli
