#include "cli/Logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace ferry::cli {

void setupLogging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("ferry");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%f %l %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace ferry::cli
