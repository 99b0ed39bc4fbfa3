#pragma once

#include <memory>
#include <string>

#include <spdlog/formatter.h>

namespace ferry::ops {

/// The one format of ferry's log lines, as an spdlog formatter. Text:
/// "2026-01-02T03:04:05.678901 info MESSAGE"; JSON (--log-format json): one object per line,
/// {"time":"2026-01-02T03:04:05.678901Z","level":"info","msg":"MESSAGE","pid":123}. In both, a
/// message never spans lines: control characters are escaped (a peer's text may hold any byte).
class LineFormatter : public spdlog::formatter {
 public:
  explicit LineFormatter(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(json_);
  }

 private:
  bool json_;
};

}  // namespace ferry::ops
