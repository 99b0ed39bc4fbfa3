#pragma once

#include "io/Clock.h"

namespace ferry::carrier::dir {

/// Adaptive poll interval of one lane reader, pure logic with explicit times: pollMin while
/// traffic is recent (data read or our own send, after which a reply is likely), then doubling
/// up to pollMax.
class PollSchedule {
 public:
  /// How long the tight tier lasts after the last activity.
  static constexpr io::Duration kTightWindow = std::chrono::milliseconds(20);

  PollSchedule(io::Duration pollMin, io::Duration pollMax);

  /// Data arrived or we sent something at `now`.
  void onActivity(io::TimePoint now);
  /// The delay until the next poll, for a poll that just ran at `now`.
  io::Duration next(io::TimePoint now);
  io::Duration pollMin() const { return pollMin_; }
  /// The interval the last next() returned.
  io::Duration current() const { return current_; }

 private:
  io::Duration pollMin_;
  io::Duration pollMax_;
  io::Duration current_;
  io::TimePoint lastActivity_{};
};

}  // namespace ferry::carrier::dir
