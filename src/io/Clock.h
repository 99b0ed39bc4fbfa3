#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ferry::io {

/// The clock of every deadline, timer and keepalive: std::chrono::steady_clock, unless a test
/// froze it (tests/support/ManualClock.h). A frozen clock moves only when the test advances it,
/// so timer tests check what happens at a given time instead of measuring wall time on a loaded
/// machine. The production cost is one relaxed load and a branch that is never taken.
struct Clock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    rep frozen = frozenAt_.load(std::memory_order_relaxed);
    if (frozen != 0) [[unlikely]] {
      return time_point(duration(frozen));
    }
    return std::chrono::steady_clock::now();
  }

  /// Test hook: from now on now() returns `at` until advanced or thawed. Not for production code.
  static void freezeAt(time_point at) {
    frozenAt_.store(at.time_since_epoch().count(), std::memory_order_relaxed);
  }
  static void thaw() { frozenAt_.store(0, std::memory_order_relaxed); }

 private:
  static inline std::atomic<rep> frozenAt_{0};  // 0: running (steady_clock never reads 0)
};

using TimePoint = Clock::time_point;
using Duration = std::chrono::nanoseconds;

using namespace std::chrono_literals;

}  // namespace ferry::io
