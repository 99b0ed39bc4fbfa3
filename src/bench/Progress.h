#pragma once

#include <string>

#include "io/Clock.h"

namespace ferry::bench {

/// A one-line progress display on stderr, redrawn in place with '\r'. It is silent unless stderr
/// is a terminal, so scripts and pipes see only the results.
class Progress {
 public:
  /// Enabled when stderr is a TTY.
  Progress();
  explicit Progress(bool enabled) : enabled_(enabled) {}
  ~Progress() { finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }
  /// True at most every kRedrawInterval: callers build the text only when it will be shown.
  bool due();
  /// Redraws the line with `text`.
  void show(const std::string& text);
  /// Clears the line (if anything was drawn).
  void finish();

 private:
  // Redraw at most 10 times a second: enough to look live, too rare to cost measurable time.
  static constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

  bool enabled_;
  bool drawn_ = false;
  io::TimePoint lastDraw_{};
};

}  // namespace ferry::bench
