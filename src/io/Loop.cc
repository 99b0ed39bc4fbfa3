#include "io/Loop.h"

#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <stdexcept>

#include "io/TickHook.h"

namespace ferry::io {
namespace {

constexpr int kMaxEventsPerTick = 1024;
constexpr uint64_t kWakeTag = ~uint64_t{0};
// Cancelled timer entries tolerated in the heap beyond twice the live ones.
constexpr size_t kHeapSlack = 64;

uint64_t packTag(int fd, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

[[noreturn]] void fatal(const char* what) {
  // The loop's own fds failing after start-up means fd or memory exhaustion: not recoverable.
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

Loop::Loop()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)), wakeFd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!epoll_ || !wakeFd_) {
    fatal("creating the event loop");
  }
  // Sub-millisecond timers (directory polling) need a timer slack below the 50 us default.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeFd_.get(), &event) != 0) {
    fatal("epoll_ctl(wake fd)");
  }
  fired_.resize(kMaxEventsPerTick);
}

Loop::~Loop() = default;

void Loop::watch(int fd, uint32_t events, IoCallback callback) {
  if (static_cast<size_t>(fd) >= handlers_.size()) {
    handlers_.resize(static_cast<size_t>(fd) + 64);
  }
  Handler& handler = handlers_[fd];
  handler.generation++;
  if (handler.callback) {
    retiredCallbacks_.push_back(std::move(handler.callback));
  }
  handler.callback = std::make_unique<IoCallback>(std::move(callback));
  handler.active = true;
  epoll_event event{};
  event.events = events;
  event.data.u64 = packTag(fd, handler.generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    fatal("epoll_ctl(ADD)");
  }
  watchedCount_++;
}

void Loop::modify(int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = packTag(fd, handlers_.at(fd).generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0) {
    fatal("epoll_ctl(MOD)");
  }
}

void Loop::unwatch(int fd) {
  if (static_cast<size_t>(fd) >= handlers_.size() || !handlers_[fd].active) {
    return;
  }
  Handler& handler = handlers_[fd];
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  handler.active = false;
  handler.generation++;  // events already fetched for this fd are now stale
  retiredCallbacks_.push_back(std::move(handler.callback));
  watchedCount_--;
}

Loop::TimerId Loop::addTimer(TimePoint deadline, Callback callback) {
  TimerId id = nextTimerId_++;
  timerHeap_.push_back({deadline, id});
  std::push_heap(timerHeap_.begin(), timerHeap_.end(), std::greater<>{});
  timerCallbacks_.emplace(id, std::move(callback));
  return id;
}

void Loop::cancelTimer(TimerId id) {
  // The heap entry stays until it expires or surfaces, and is skipped then. When cancelled
  // entries outnumber live ones (a deadline re-armed on every frame), the heap is rebuilt, so
  // its size stays within twice the live timers.
  if (timerCallbacks_.erase(id) == 0) {
    return;
  }
  if (timerHeap_.size() > 2 * timerCallbacks_.size() + kHeapSlack) {
    std::erase_if(timerHeap_,
                  [this](const TimerEntry& entry) { return !timerCallbacks_.contains(entry.id); });
    std::make_heap(timerHeap_.begin(), timerHeap_.end(), std::greater<>{});
  }
}

void Loop::defer(Callback callback) {
  deferred_.push_back({std::move(callback), nullptr});
}

void Loop::post(Callback callback) {
  {
    std::lock_guard lock(postedMutex_);
    posted_.push_back(std::move(callback));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wakeFd_.get(), &one, sizeof one);
}

void Loop::stop() {
  stopRequested_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wakeFd_.get(), &one, sizeof one);
}

void Loop::run() {
  while (!stopRequested_.exchange(false)) {
    runOnce(std::chrono::hours(1));
  }
}

Duration Loop::timeUntilNextTimer(Duration maxWait) {
  while (!timerHeap_.empty() && !timerCallbacks_.contains(timerHeap_.front().id)) {
    std::pop_heap(timerHeap_.begin(), timerHeap_.end(), std::greater<>{});
    timerHeap_.pop_back();
  }
  if (!deferred_.empty()) {
    return Duration::zero();
  }
  if (timerHeap_.empty()) {
    return maxWait;
  }
  Duration untilDeadline = timerHeap_.front().deadline - Clock::now();
  return std::clamp(untilDeadline, Duration::zero(), maxWait);
}

void Loop::runOnce(Duration maxWait) {
  Duration wait = timeUntilNextTimer(maxWait);
  timespec timeout{};
  timeout.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(wait).count();
  timeout.tv_nsec = (wait - std::chrono::seconds(timeout.tv_sec)).count();
  int count = ::epoll_pwait2(epoll_.get(), fired_.data(), static_cast<int>(fired_.size()), &timeout,
                             nullptr);
  if (count < 0 && errno != EINTR) {
    fatal("epoll_pwait2");
  }
  if (count > 0) {
    dispatchEvents(count);
  }
  runExpiredTimers();
  runDeferred();
  retiredCallbacks_.clear();
}

void Loop::dispatchEvents(int count) {
  for (int i = 0; i < count; ++i) {
    uint64_t tag = fired_[i].data.u64;
    if (tag == kWakeTag) {
      drainPosted();
      continue;
    }
    int fd = static_cast<int>(tag & 0xffffffffu);
    auto generation = static_cast<uint32_t>(tag >> 32);
    Handler& handler = handlers_[fd];
    if (handler.active && handler.generation == generation) {
      // Copy-free call; unwatch() from inside moves the box, not the callback, to
      // retiredCallbacks_, so `callback` stays valid until the end of the tick.
      IoCallback* callback = handler.callback.get();
      (*callback)(fired_[i].events);
    }
  }
}

void Loop::runExpiredTimers() {
  TimePoint now = Clock::now();
  while (!timerHeap_.empty() && timerHeap_.front().deadline <= now) {
    TimerId id = timerHeap_.front().id;
    std::pop_heap(timerHeap_.begin(), timerHeap_.end(), std::greater<>{});
    timerHeap_.pop_back();
    auto found = timerCallbacks_.find(id);
    if (found == timerCallbacks_.end()) {
      continue;
    }
    Callback callback = std::move(found->second);
    timerCallbacks_.erase(found);
    callback();
  }
}

void Loop::runDeferred() {
  // Deferred callbacks may defer more (into deferred_, never into the running batch); run until
  // quiescent. Not re-entrant: no callback runs the loop.
  while (!deferred_.empty()) {
    running_.swap(deferred_);
    deferredRound_++;
    for (Deferred& entry : running_) {
      if (entry.hook != nullptr) {
        entry.hook->run();
      } else if (entry.callback) {
        entry.callback();
      }
    }
    running_.clear();
  }
}

void Loop::drainPosted() {
  uint64_t value;
  [[maybe_unused]] ssize_t n = ::read(wakeFd_.get(), &value, sizeof value);
  std::vector<Callback> batch;
  {
    std::lock_guard lock(postedMutex_);
    batch.swap(posted_);
  }
  for (Callback& callback : batch) {
    callback();
  }
}

}  // namespace ferry::io
