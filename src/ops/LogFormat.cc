#include "ops/LogFormat.h"

#include <unistd.h>

#include <ctime>

#include <fmt/format.h>
#include <spdlog/details/log_msg.h>

#include "ops/Json.h"

namespace ferry::ops {
namespace {

/// ISO 8601 with microseconds: local time for text, UTC (with Z) for JSON.
std::string timestamp(spdlog::log_clock::time_point when, bool utc) {
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm parts{};
  if (utc) {
    ::gmtime_r(&seconds, &parts);
  } else {
    ::localtime_r(&seconds, &parts);
  }
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  return fmt::format("{}.{:06}{}", text, micros % 1000000, utc ? "Z" : "");
}

/// The message on one line: control characters as \n, \t or \xNN.
std::string oneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void LineFormatter::format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) {
  std::string_view text(message.payload.data(), message.payload.size());
  spdlog::string_view_t level = spdlog::level::to_string_view(message.level);
  std::string line =
      json_ ? fmt::format(R"({{"time":"{}","level":"{}","msg":{},"pid":{}}})",
                          timestamp(message.time, true),
                          std::string_view(level.data(), level.size()), jsonQuote(text), ::getpid())
            : fmt::format("{} {} {}", timestamp(message.time, false),
                          std::string_view(level.data(), level.size()), oneLine(text));
  line += '\n';
  dest.append(line.data(), line.data() + line.size());
}

}  // namespace ferry::ops
