#pragma once

#include <functional>
#include <optional>

#include "io/Clock.h"
#include "io/Loop.h"

namespace ferry::test {

using namespace std::chrono_literals;

/// Freezes io::Clock for its lifetime: time moves only by advance(), so a timer test states
/// what has happened at a given time and never depends on how fast the machine runs. Drive the
/// loop with runOnce(0ms) or runUntil between advances; runUntil's own deadline is wall time.
class ManualClock {
 public:
  ManualClock() : now_(io::Clock::now()) { io::Clock::freezeAt(now_); }
  ~ManualClock() { io::Clock::thaw(); }
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  io::TimePoint now() const { return now_; }
  void advance(io::Duration by) {
    now_ += by;
    io::Clock::freezeAt(now_);
  }

  /// Moves time on by `step` (running the loop's due work after each step) until `done` holds;
  /// returns how much clock time that took, or nothing if `limit` passed first.
  std::optional<io::Duration> advanceUntil(io::Loop& loop, io::Duration step, io::Duration limit,
                                           const std::function<bool()>& done) {
    io::TimePoint start = now_;
    while (true) {
      loop.runOnce(0ms);  // expired timers, then everything they deferred
      if (done()) {
        return now_ - start;
      }
      if (now_ - start >= limit) {
        return std::nullopt;
      }
      advance(step);
    }
  }

 private:
  io::TimePoint now_;
};

}  // namespace ferry::test
