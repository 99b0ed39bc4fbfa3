#include "carrier/dir/PollSchedule.h"

#include <algorithm>

namespace ferry::carrier::dir {

PollSchedule::PollSchedule(io::Duration pollMin, io::Duration pollMax)
    : pollMin_(pollMin), pollMax_(std::max(pollMin, pollMax)), current_(pollMin) {}

void PollSchedule::onActivity(io::TimePoint now) {
  lastActivity_ = now;
  current_ = pollMin_;
}

io::Duration PollSchedule::next(io::TimePoint now) {
  if (now - lastActivity_ < kTightWindow) {
    current_ = pollMin_;
  } else {
    current_ = std::min(pollMax_, current_ * 2);
  }
  return current_;
}

}  // namespace ferry::carrier::dir
