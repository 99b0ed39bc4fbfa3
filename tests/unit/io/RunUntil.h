#pragma once

#include <functional>

#include "io/Loop.h"

namespace ferry::io::test {

/// Drives `loop` one tick at a time until `done()` holds or `timeout` passes; returns done().
inline bool runUntil(Loop& loop, const std::function<bool()>& done, Duration timeout = 5s) {
  TimePoint deadline = Clock::now() + timeout;
  while (!done() && Clock::now() < deadline) {
    loop.runOnce(10ms);
  }
  return done();
}

}  // namespace ferry::io::test
