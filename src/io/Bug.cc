#include "io/Bug.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "io/Log.h"

namespace ferry::io {
namespace {

/// "src/io/Loop.cc" rather than the build machine's absolute path.
std::string_view sourcePath(std::string_view file) {
  size_t src = file.rfind("src/");
  return src == std::string_view::npos ? file : file.substr(src);
}

/// The logger a process set up (cli/ names its logger); spdlog's built-in default (unnamed,
/// on stdout) does not count, nor a logger whose level hides critical lines.
spdlog::logger* configuredLogger() {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (logger == nullptr || logger->name().empty() || !logger->should_log(spdlog::level::critical)) {
    return nullptr;
  }
  return logger;
}

}  // namespace

void reportBug(const char* file, int line, const std::string& message) {
  std::string text = fmt::format("bug at {}:{}: {}", sourcePath(file), line, message);
  if (spdlog::logger* logger = configuredLogger()) {
    logger->critical(text);
    logger->flush();
  } else {
    std::fprintf(stderr, "ferry: %s\n", text.c_str());
    std::fflush(stderr);
  }
  std::abort();
}

}  // namespace ferry::io
