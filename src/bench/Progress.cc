#include "bench/Progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

namespace ferry::bench {

Progress::Progress() : enabled_(::isatty(STDERR_FILENO) == 1) {}

bool Progress::due() {
  if (!enabled_) {
    return false;
  }
  io::TimePoint now = io::Clock::now();
  if (now - lastDraw_ < kRedrawInterval) {
    return false;
  }
  lastDraw_ = now;
  return true;
}

void Progress::show(const std::string& text) {
  if (!enabled_) {
    return;
  }
  // "\033[K" clears what a longer previous line left behind.
  fmt::print(stderr, "\r{}\033[K", text);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace ferry::bench
