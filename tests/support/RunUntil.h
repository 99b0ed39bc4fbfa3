#pragma once

#include <chrono>
#include <functional>

#include "io/Loop.h"

namespace ferry::test {

using namespace std::chrono_literals;

/// Drives `loop` one short tick at a time until `done()` holds or `timeout` of wall time passed;
/// returns done(). The deadline is read from steady_clock, not io::Clock, so that it still ends a
/// test that froze io::Clock (ManualClock).
inline bool runUntil(io::Loop& loop, const std::function<bool()>& done,
                     io::Duration timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    loop.runOnce(1ms);
  }
  return true;
}

}  // namespace ferry::test
