#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "carrier/dir/Inotify.h"
#include "carrier/dir/PollSchedule.h"
#include "io/Loop.h"
#include "io/TickHook.h"
#include "io/Timer.h"

namespace ferry::carrier::dir {

/// Decides when a lane reader reads: on inotify events (IN_MODIFY on the segment being read, and
/// IN_CREATE/IN_MOVED_TO on the folder until the first segment appears), or on an adaptive poll
/// timer (PollSchedule) where inotify cannot see the writes (remote file systems, --force-poll).
/// Local lanes also get a safety poll from their owner. A lane only ever moves from inotify to
/// polling, never back: when a watch cannot be added, or when two safety polls in a row find data
/// that no event announced.
class LaneWake {
 public:
  struct Config {
    std::string folderPath;
    bool poll = false;  // start polling (forced where inotify is null)
    io::Duration pollMin{};
    io::Duration pollMax{};
  };
  /// `read` reads what is new and returns true if it got bytes (see LaneReader::readAvailable).
  LaneWake(io::Loop& loop, std::shared_ptr<Inotify> inotify, Config config,
           std::function<bool()> read);
  ~LaneWake();
  LaneWake(const LaneWake&) = delete;
  LaneWake& operator=(const LaneWake&) = delete;

  /// The first read: at once when polling, else from the loop's next tick.
  void start();
  /// No read or timer afterwards. Idempotent.
  void stop();
  bool polling() const { return polling_; }
  /// The adaptive poll timer's current interval (meaningful while polling()).
  io::Duration pollInterval() const { return schedule_.current(); }

  /// Segment `name` was opened: watch it before its first read, so that no write can fall
  /// between read and watch. Also ends a wait for the first segment.
  void segmentOpened(const std::string& name);
  /// The segment being read ended (Rotate): its watch goes.
  void segmentEnded();
  /// The lane's first segment `name` does not exist yet: read again when it appears.
  void waitForSegment(const std::string& name);

  /// A read from the loop's next tick (coalesced).
  void scheduleRead();
  /// A read once the loop has looked at its sockets and timers again (a zero-delay timer): for
  /// a reader that stops while there is more, so that a busy lane does not keep every socket
  /// of the process waiting until it catches up with its writer.
  void readAfterEvents();
  /// A frame other than Ping arrived: keep the poll tight.
  void noteTraffic() { trafficSeen_ = true; }
  /// We just sent something: a reply is likely, so poll tightly for a while.
  void onLocalSend();
  /// We wait for a frame of the peer's: the next poll comes within pollMin (PollSchedule).
  void onReplyAwaited();
  /// Called every pollMax by the owner on inotify lanes: reads (so a stuck tail times out even
  /// without events), and switches to polling if it finds data that no event announced.
  void safetyPoll();

 private:
  void switchToPolling(const std::string& why);
  void removeWatches();
  void armPoll(io::Duration delay);
  /// Brings the armed poll forward to `now + wait` if it is later.
  void pollWithin(io::TimePoint now, io::Duration wait);
  void onPollTimer();

  io::Loop& loop_;
  std::shared_ptr<Inotify> inotify_;
  Config config_;
  std::function<bool()> read_;
  bool polling_;
  bool stopped_ = false;
  std::string current_;  // the segment watched or awaited, for log lines

  Inotify::WatchId fileWatch_ = 0;
  Inotify::WatchId folderWatch_ = 0;
  uint64_t segmentsEnded_ = 0;  // tells the safety poll that a read rotated
  bool eventSeen_ = false;
  bool missSuspected_ = false;  // the last safety poll found data no event announced

  PollSchedule schedule_;
  bool trafficSeen_ = false;  // a frame other than Ping was delivered since the last poll
  io::Timer pollTimer_{loop_};
  io::TimePoint pollDeadline_{};
  io::TickHook readHook_{loop_, [this] { read_(); }};
  io::Timer resumeTimer_{loop_};  // readAfterEvents()
};

}  // namespace ferry::carrier::dir
