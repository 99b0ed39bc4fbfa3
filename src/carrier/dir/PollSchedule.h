#pragma once

#include "io/Clock.h"

namespace ferry::carrier::dir {

/// Adaptive poll interval of one lane reader, pure logic with explicit times: pollMin while
/// traffic is recent (data read or our own send, after which a reply is likely), then doubling
/// up to pollMax.
///
/// One-way sending: while we keep sending and kOneWayPolls polls in a row found no traffic (a
/// bulk upload: the peer writes Window credit and SegmentAcks, which do not count as traffic),
/// our sends no longer hold the interval at pollMin; it doubles per poll up to kOneWayFactor x
/// pollMin. On a FUSE or network share each poll is several round trips to the file server made
/// on the loop thread, and on an SMB mount the daemon serves one request at a time, so polling
/// every pollMin during an upload took time from the writes. What the upload itself waits for
/// must not wait that long: onReplyAwaited() (we sent Blocked for want of credit, or a rotation
/// found no acknowledged segment to reuse) brings the interval back to pollMin, from where it
/// doubles again. One-way mode ends with the first poll that finds traffic or follows no send of
/// ours.
class PollSchedule {
 public:
  /// How long the tight tier lasts after the last activity.
  static constexpr io::Duration kTightWindow = std::chrono::milliseconds(20);
  static constexpr int kOneWayPolls = 4;
  static constexpr int kOneWayFactor = 32;

  PollSchedule(io::Duration pollMin, io::Duration pollMax);

  /// Data arrived at `now`.
  void onActivity(io::TimePoint now);
  /// We sent something at `now`. Returns the longest the next poll may now wait: pollMin, or
  /// the current interval while sending one way.
  io::Duration onLocalSend(io::TimePoint now);
  /// At `now` we started waiting for a frame of the peer's (a Window after our Blocked, a
  /// SegmentAck). Returns pollMin, the longest the next poll may now wait; one-way mode goes
  /// on, doubling from pollMin.
  io::Duration onReplyAwaited(io::TimePoint now);
  /// The delay until the next poll, for a poll that just ran at `now`.
  io::Duration next(io::TimePoint now);
  io::Duration pollMin() const { return pollMin_; }
  /// The interval the last next() returned.
  io::Duration current() const { return current_; }

 private:
  bool oneWay() const { return emptyPollsWhileSending_ >= kOneWayPolls; }

  io::Duration pollMin_;
  io::Duration pollMax_;
  io::Duration current_;
  io::TimePoint lastActivity_{};
  bool dataSincePoll_ = false;
  bool sentSincePoll_ = false;
  int emptyPollsWhileSending_ = 0;  // polls in a row that followed our sends and found no traffic
};

}  // namespace ferry::carrier::dir
