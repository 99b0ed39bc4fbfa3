#include "cli/Logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "ops/LogFormat.h"

namespace ferry::cli {
namespace {

bool json = false;
std::shared_ptr<spdlog::logger> logger;

}  // namespace

void setupLogging() {
  logger = spdlog::stderr_logger_mt("ferry");
  logger->set_formatter(std::make_unique<ops::LineFormatter>(json));
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void setLogLevel(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
}

void setLogFormat(const std::string& format) {
  json = format == "json";
  if (logger) {
    logger->set_formatter(std::make_unique<ops::LineFormatter>(json));
  }
}

bool jsonLogs() {
  return json && logger;
}

}  // namespace ferry::cli
