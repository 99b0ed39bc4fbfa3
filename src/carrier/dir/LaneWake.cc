#include "carrier/dir/LaneWake.h"

#include "io/Log.h"

namespace ferry::carrier::dir {

LaneWake::LaneWake(io::Loop& loop, std::shared_ptr<Inotify> inotify, Config config,
                   std::function<bool()> read)
    : loop_(loop),
      inotify_(std::move(inotify)),
      config_(std::move(config)),
      read_(std::move(read)),
      polling_(config_.poll || !inotify_),
      schedule_(config_.pollMin, config_.pollMax) {}

LaneWake::~LaneWake() {
  stop();
}

void LaneWake::start() {
  if (stopped_) {
    return;
  }
  // A watch that failed before start() already armed the poll (switchToPolling).
  if (polling_ && !pollTimer_.armed()) {
    armPoll(io::Duration::zero());
  } else {
    scheduleRead();
  }
}

void LaneWake::stop() {
  stopped_ = true;
  removeWatches();
  pollTimer_.cancel();
  resumeTimer_.cancel();
}

void LaneWake::removeWatches() {
  if (inotify_) {
    inotify_->remove(fileWatch_);
    inotify_->remove(folderWatch_);
  }
  fileWatch_ = folderWatch_ = 0;
}

void LaneWake::segmentOpened(const std::string& name) {
  current_ = name;
  if (polling_) {
    return;
  }
  auto added =
      inotify_->add(config_.folderPath + "/" + name, IN_MODIFY, [this](uint32_t, std::string_view) {
        eventSeen_ = true;
        missSuspected_ = false;
        scheduleRead();
      });
  if (!added) {
    switchToPolling(added.error().message);
    return;
  }
  fileWatch_ = *added;
  inotify_->remove(folderWatch_);
  folderWatch_ = 0;
}

void LaneWake::segmentEnded() {
  ++segmentsEnded_;
  if (inotify_) {
    inotify_->remove(fileWatch_);
    fileWatch_ = 0;
  }
}

void LaneWake::waitForSegment(const std::string& name) {
  current_ = name;
  if (polling_) {
    return;  // the next poll opens it
  }
  auto added = inotify_->add(config_.folderPath, IN_CREATE | IN_MOVED_TO,
                             [this, name](uint32_t mask, std::string_view entry) {
                               if (entry == name || (mask & IN_Q_OVERFLOW)) {
                                 scheduleRead();
                               }
                             });
  if (!added) {
    switchToPolling(added.error().message);
    return;
  }
  folderWatch_ = *added;
}

void LaneWake::scheduleRead() {
  if (!stopped_) {
    readHook_.request();
  }
}

void LaneWake::readAfterEvents() {
  if (!stopped_ && !resumeTimer_.armed()) {
    resumeTimer_.armAfter(io::Duration::zero(), [this] { read_(); });
  }
}

void LaneWake::safetyPoll() {
  if (stopped_ || polling_) {
    return;
  }
  bool watched = fileWatch_ != 0;
  uint64_t endedBefore = segmentsEnded_;
  bool announced = readHook_.requested() || resumeTimer_.armed();  // a read already due
  eventSeen_ = false;
  inotify_->drain();
  bool gotBytes = read_();
  if (!gotBytes || stopped_ || !watched || segmentsEnded_ != endedBefore) {
    return;
  }
  inotify_->drain();
  if (!announced && !eventSeen_) {
    // A large write shows its first pages before its IN_MODIFY is queued (the event follows the
    // whole copy), so one such finding is no proof: switch only when the next safety poll finds
    // unannounced data again with no event in between.
    if (missSuspected_) {
      switchToPolling("the safety poll found data that no inotify event announced");
    }
    missSuspected_ = true;
  }
}

void LaneWake::switchToPolling(const std::string& why) {
  if (polling_ || stopped_) {
    return;
  }
  spdlog::info("dir lane {}: switching to polling: {}", current_, why);
  polling_ = true;
  removeWatches();
  armPoll(schedule_.pollMin());
}

void LaneWake::armPoll(io::Duration delay) {
  pollDeadline_ = io::Clock::now() + delay;
  pollTimer_.arm(pollDeadline_, [this] { onPollTimer(); });
}

void LaneWake::onPollTimer() {
  read_();
  if (stopped_) {
    return;
  }
  io::TimePoint now = io::Clock::now();
  if (std::exchange(trafficSeen_, false)) {
    schedule_.onActivity(now);
  }
  armPoll(schedule_.next(now));
}

void LaneWake::onLocalSend() {
  io::TimePoint now = io::Clock::now();
  pollWithin(now, schedule_.onLocalSend(now));
}

void LaneWake::onReplyAwaited() {
  io::TimePoint now = io::Clock::now();
  pollWithin(now, schedule_.onReplyAwaited(now));
}

void LaneWake::pollWithin(io::TimePoint now, io::Duration wait) {
  if (polling_ && pollTimer_.armed() && pollDeadline_ > now + wait) {
    armPoll(wait);  // replaces the later one
  }
}

}  // namespace ferry::carrier::dir
