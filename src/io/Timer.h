#pragma once

#include "io/Clock.h"
#include "io/Loop.h"

namespace ferry::io {

/// At most one pending timer on a Loop, owned by the object that embeds it: arming it again
/// replaces the pending one, and destroying it cancels it, so no callback runs on a dead owner.
/// armed() turns false as the callback starts, which may arm the timer again (periodic work).
///
/// Neither copyable nor movable: the loop's entry refers to it by address. Owners that come and
/// go (one per connection) hold theirs in a heap-allocated record. Must not outlive its loop.
class Timer {
 public:
  explicit Timer(Loop& loop) : loop_(loop) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(TimePoint deadline, Loop::Callback callback);
  void armAfter(Duration delay, Loop::Callback callback) {
    arm(Clock::now() + delay, std::move(callback));
  }
  /// No-op if not armed.
  void cancel();
  bool armed() const { return id_ != 0; }

 private:
  void fire();

  Loop& loop_;
  Loop::TimerId id_ = 0;
  Loop::Callback callback_;
};

}  // namespace ferry::io
