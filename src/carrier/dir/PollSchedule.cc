#include "carrier/dir/PollSchedule.h"

#include <algorithm>

namespace ferry::carrier::dir {

PollSchedule::PollSchedule(io::Duration pollMin, io::Duration pollMax)
    : pollMin_(pollMin), pollMax_(std::max(pollMin, pollMax)), current_(pollMin) {}

void PollSchedule::onActivity(io::TimePoint now) {
  lastActivity_ = now;
  current_ = pollMin_;
  dataSincePoll_ = true;
  emptyPollsWhileSending_ = 0;
}

io::Duration PollSchedule::onLocalSend(io::TimePoint now) {
  lastActivity_ = now;
  sentSincePoll_ = true;
  if (!oneWay()) {
    current_ = pollMin_;
  }
  return current_;
}

io::Duration PollSchedule::onReplyAwaited(io::TimePoint now) {
  onLocalSend(now);
  current_ = pollMin_;
  return current_;
}

io::Duration PollSchedule::next(io::TimePoint now) {
  if (!sentSincePoll_) {
    emptyPollsWhileSending_ = 0;
  } else if (!dataSincePoll_) {
    ++emptyPollsWhileSending_;
  }
  sentSincePoll_ = dataSincePoll_ = false;
  if (oneWay()) {
    current_ = std::min({pollMax_, pollMin_ * kOneWayFactor, current_ * 2});
  } else if (now - lastActivity_ < kTightWindow) {
    current_ = pollMin_;
  } else {
    current_ = std::min(pollMax_, current_ * 2);
  }
  return current_;
}

}  // namespace ferry::carrier::dir
