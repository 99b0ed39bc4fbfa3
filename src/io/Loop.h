#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "io/Clock.h"
#include "io/Fd.h"

namespace ferry::io {

class TickHook;
class Timer;

/// A single-threaded epoll event loop with one timer heap and an end-of-tick hook.
///
/// Ordering contract for one tick: epoll_wait (with the nearest timer as timeout) -> fd callbacks
/// in the order the kernel reported them -> expired timers in (deadline, creation) order ->
/// deferred callbacks until none are left (a deferred callback may defer more). Deferred
/// callbacks are where layers batch their output: one write per socket and per lane per tick.
///
/// Owners use the handles, embedded in themselves like libuv's: io::Timer (one pending timer,
/// cancelled on re-arm and destruction) and io::TickHook (an end-of-tick callback requested any
/// number of times per tick, unregistered on destruction). Handles must not outlive their loop.
class Loop {
 public:
  using IoCallback = std::function<void(uint32_t events)>;
  using Callback = std::function<void()>;
  using TimerId = uint64_t;

  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /// Registers `fd` for the EPOLL* `events`; the callback receives the fired mask.
  void watch(int fd, uint32_t events, IoCallback callback);
  void modify(int fd, uint32_t events);
  /// Safe to call from inside any callback, including the fd's own.
  void unwatch(int fd);
  /// Number of registered fds, not counting the loop's own wake-up fd.
  size_t watchedCount() const { return watchedCount_; }

  /// Pending timers (see io::Timer).
  size_t timerCount() const { return timerCallbacks_.size(); }
  /// Entries in the timer heap, cancelled ones included (bounded by 2 * timerCount() + 64).
  size_t timerHeapSize() const { return timerHeap_.size(); }

  /// Runs `callback` at the end of the current tick, before the loop sleeps again. For a
  /// callback tied to an object's lifetime, use an io::TickHook instead.
  void defer(Callback callback);
  /// Thread-safe: queues `callback` to run on the loop thread and wakes the loop.
  void post(Callback callback);

  /// Runs until stop() is called. A stop() that came before run() (say from another thread
  /// that raced ahead of it) makes run() return at once rather than being lost.
  void run();
  /// Runs one tick, sleeping at most `maxWait` for events.
  void runOnce(Duration maxWait);
  /// Thread-safe.
  void stop();

 private:
  struct Handler {
    // Boxed so that the running callback never moves: unwatch() retires the box, and a re-watch
    // of the same fd from inside the callback fills a new box instead of overwriting the object
    // being executed (std::function keeps small lambdas inline).
    std::unique_ptr<IoCallback> callback;
    uint32_t generation = 0;
    bool active = false;
  };
  friend class TickHook;
  friend class Timer;

  // The raw timer API, used only through io::Timer, which owns its entry.
  TimerId addTimer(TimePoint deadline, Callback callback);
  /// Cancelling an expired or unknown timer is a no-op.
  void cancelTimer(TimerId id);

  // One end-of-tick callback: a defer()red one, or a requested TickHook (null once unregistered).
  struct Deferred {
    Callback callback;
    TickHook* hook = nullptr;
  };
  struct TimerEntry {
    TimePoint deadline;
    TimerId id;
    bool operator>(const TimerEntry& other) const {
      return deadline != other.deadline ? deadline > other.deadline : id > other.id;
    }
  };

  void dispatchEvents(int count);
  void runExpiredTimers();
  void runDeferred();
  void drainPosted();
  Duration timeUntilNextTimer(Duration maxWait);

  Fd epoll_;
  Fd wakeFd_;
  // Indexed by fd. A deque, so that growing it from inside a callback never moves the running one.
  std::deque<Handler> handlers_;
  std::vector<epoll_event> fired_;
  size_t watchedCount_ = 0;
  std::vector<std::unique_ptr<IoCallback>>
      retiredCallbacks_;  // freed at end of tick, never mid-call

  std::vector<TimerEntry> timerHeap_;
  std::unordered_map<TimerId, Callback> timerCallbacks_;
  TimerId nextTimerId_ = 1;

  std::vector<Deferred> deferred_;
  // The batch runDeferred() is running; kept as a member so that its capacity is reused and a
  // TickHook destroyed meanwhile can find its entry.
  std::vector<Deferred> running_;
  uint64_t deferredRound_ = 0;  // batches moved from deferred_ to running_ so far
  std::mutex postedMutex_;
  std::vector<Callback> posted_;
  std::atomic<bool> stopRequested_{false};  // consumed by the run() it ends
};

}  // namespace ferry::io
