#include "io/Timer.h"

#include <utility>

namespace ferry::io {

void Timer::arm(TimePoint deadline, Loop::Callback callback) {
  cancel();
  callback_ = std::move(callback);
  id_ = loop_.addTimer(deadline, [this] { fire(); });
}

void Timer::cancel() {
  if (id_ != 0) {
    loop_.cancelTimer(std::exchange(id_, 0));
    callback_ = nullptr;
  }
}

void Timer::fire() {
  id_ = 0;
  // Moved out first: the callback may re-arm this timer (replacing callback_) or destroy it.
  Loop::Callback callback = std::move(callback_);
  callback();
}

}  // namespace ferry::io
