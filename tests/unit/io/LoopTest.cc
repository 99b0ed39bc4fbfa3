#include "io/Loop.h"

#include "io/Timer.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "support/ManualClock.h"
#include "support/RunUntil.h"

namespace ferry::io {
namespace {

using test::runUntil;

/// A connected AF_UNIX stream pair, closed on destruction.
struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
  /// Makes `a` readable.
  void poke() { ASSERT_EQ(::write(b.get(), "x", 1), 1); }
  Fd a;
  Fd b;
};

/// Fire-and-forget timers, for tests that arm several; they live as long as this.
struct Timers {
  explicit Timers(Loop& loop) : loop(loop) {}
  Timer& at(TimePoint deadline, Loop::Callback callback) {
    Timer& timer = all.emplace_back(loop);
    timer.arm(deadline, std::move(callback));
    return timer;
  }
  Timer& after(Duration delay, Loop::Callback callback) {
    return at(Clock::now() + delay, std::move(callback));
  }
  Loop& loop;
  std::deque<Timer> all;  // a deque never moves its elements
};

TEST(LoopTest, FdCallbackFiresOnReadiness) {
  Loop loop;
  SocketPair pair;
  uint32_t seen = 0;
  int calls = 0;
  loop.watch(pair.a.get(), EPOLLIN, [&](uint32_t events) {
    seen = events;
    calls++;
  });
  loop.runOnce(0ms);
  EXPECT_EQ(calls, 0) << "fired before the fd was readable";
  pair.poke();
  ASSERT_TRUE(runUntil(loop, [&] { return calls > 0; }));
  EXPECT_TRUE(seen & EPOLLIN);
  loop.unwatch(pair.a.get());
}

TEST(LoopTest, ModifyChangesTheWatchedEvents) {
  Loop loop;
  SocketPair pair;
  uint32_t seen = 0;
  loop.watch(pair.a.get(), EPOLLIN, [&](uint32_t events) { seen |= events; });
  loop.runOnce(0ms);
  EXPECT_EQ(seen, 0u);
  loop.modify(pair.a.get(), EPOLLOUT);
  ASSERT_TRUE(runUntil(loop, [&] { return (seen & EPOLLOUT) != 0; }));
  loop.unwatch(pair.a.get());
}

TEST(LoopTest, UnwatchFromOwnCallback) {
  Loop loop;
  SocketPair pair;
  int calls = 0;
  int fd = pair.a.get();
  // A capture too large for std::function's local storage, so it lives on the heap and a
  // premature free would show under ASan.
  std::string big(200, 'q');
  loop.watch(fd, EPOLLIN, [&, fd, big](uint32_t) {
    calls++;
    loop.unwatch(fd);
    EXPECT_EQ(big, std::string(200, 'q'));
  });
  pair.poke();
  ASSERT_TRUE(runUntil(loop, [&] { return calls > 0; }));
  // Level-triggered and still readable: a live registration would fire again.
  for (int i = 0; i < 5; ++i) {
    loop.runOnce(1ms);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(loop.watchedCount(), 0u);
}

TEST(LoopTest, UnwatchOtherFdInSameTickDropsItsStaleEvent) {
  Loop loop;
  SocketPair first;
  SocketPair second;
  int firstCalls = 0;
  int secondCalls = 0;
  // Whichever runs first unwatches the other; both are ready in the same epoll_wait.
  loop.watch(first.a.get(), EPOLLIN, [&](uint32_t) {
    firstCalls++;
    loop.unwatch(first.a.get());
    loop.unwatch(second.a.get());
  });
  loop.watch(second.a.get(), EPOLLIN, [&](uint32_t) {
    secondCalls++;
    loop.unwatch(first.a.get());
    loop.unwatch(second.a.get());
  });
  first.poke();
  second.poke();
  loop.runOnce(1s);
  EXPECT_EQ(firstCalls + secondCalls, 1);
  EXPECT_EQ(loop.watchedCount(), 0u);
}

TEST(LoopTest, StaleEventIsNotDeliveredToANewWatchOfTheSameFdNumber) {
  Loop loop;
  SocketPair first;
  SocketPair second;
  SocketPair replacement;  // never readable
  int oldCalls = 0;
  int newCalls = 0;
  int otherCalls = 0;
  auto swapOut = [&](int victim) {
    // The victim's number now names a different, idle socket.
    loop.unwatch(victim);
    ASSERT_EQ(::dup2(replacement.a.get(), victim), victim);
    loop.watch(victim, EPOLLIN, [&](uint32_t) { newCalls++; });
  };
  int firstFd = first.a.get();
  int secondFd = second.a.get();
  loop.watch(firstFd, EPOLLIN, [&](uint32_t) {
    oldCalls++;
    swapOut(secondFd);
  });
  loop.watch(secondFd, EPOLLIN, [&](uint32_t) {
    otherCalls++;
    swapOut(firstFd);
  });
  first.poke();
  second.poke();
  loop.runOnce(1s);
  EXPECT_EQ(oldCalls + otherCalls, 1);
  EXPECT_EQ(newCalls, 0) << "the event fetched for the old socket reached the new watch";
  loop.unwatch(firstFd);
  loop.unwatch(secondFd);
  EXPECT_EQ(loop.watchedCount(), 0u);
}

TEST(LoopTest, RewatchingOwnFdFromItsCallbackKeepsTheRunningCallbackIntact) {
  Loop loop;
  SocketPair pair;
  int fd = pair.a.get();
  int oldHits = 0;
  int newHits = 0;
  struct Context {
    Loop* loop;
    int fd;
    Loop::IoCallback replacement;
  } context{&loop, fd, [hits = &newHits](uint32_t) { ++*hits; }};
  // Two pointers: small and trivially copyable, so std::function stores the lambda inline, in
  // the very slot the re-watch below assigns to.
  loop.watch(fd, EPOLLIN, [context = &context, hits = &oldHits](uint32_t) {
    context->loop->unwatch(context->fd);
    context->loop->watch(context->fd, EPOLLIN, std::move(context->replacement));
    // This callback's captures must still be its own after the re-watch.
    ++*hits;
  });
  pair.poke();
  loop.runOnce(1s);
  EXPECT_EQ(oldHits, 1);
  EXPECT_EQ(newHits, 0);
  ASSERT_TRUE(runUntil(loop, [&] { return newHits > 0; }));
  EXPECT_EQ(oldHits, 1);
  loop.unwatch(fd);
}

TEST(LoopTest, WatchingAHighFdFromACallbackDoesNotBreakTheRunningCallback) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  int high = static_cast<int>(std::min<rlim_t>(limit.rlim_cur - 1, 4000));
  ASSERT_GT(high, 100);
  Loop loop;
  SocketPair low;
  SocketPair target;
  std::vector<int> trail;
  int highCalls = 0;
  std::string big(300, 'z');  // heap-stored capture
  loop.watch(low.a.get(), EPOLLIN, [&, big](uint32_t) {
    trail.push_back(1);
    ASSERT_EQ(::dup2(target.a.get(), high), high);
    loop.watch(high, EPOLLIN, [&](uint32_t) { highCalls++; });
    // Still running on an intact callback after handlers grew.
    trail.push_back(static_cast<int>(big.size()));
    EXPECT_EQ(big, std::string(300, 'z'));
    loop.unwatch(low.a.get());
  });
  low.poke();
  ASSERT_TRUE(runUntil(loop, [&] { return !trail.empty(); }));
  EXPECT_EQ(trail, (std::vector<int>{1, 300}));
  target.poke();
  ASSERT_TRUE(runUntil(loop, [&] { return highCalls > 0; }));
  loop.unwatch(high);
  ::close(high);
  EXPECT_EQ(loop.watchedCount(), 0u);
}

TEST(LoopTest, TimersFireInDeadlineThenCreationOrder) {
  Loop loop;
  std::vector<int> order;
  // All already expired, so they run in one tick and only the ordering rule decides.
  TimePoint base = Clock::now() - 1s;
  Timers timers(loop);
  timers.at(base + 3ms, [&] { order.push_back(1); });
  timers.at(base + 1ms, [&] { order.push_back(2); });
  timers.at(base + 1ms, [&] { order.push_back(3); });
  timers.at(base + 2ms, [&] { order.push_back(4); });
  timers.at(base + 1ms, [&] { order.push_back(5); });
  loop.runOnce(0ms);
  EXPECT_EQ(order, (std::vector<int>{2, 3, 5, 4, 1}));
  EXPECT_EQ(loop.timerCount(), 0u);
}

TEST(LoopTest, FutureTimersWaitForTheirDeadline) {
  ferry::test::ManualClock clock;
  Loop loop;
  std::vector<int> order;
  Timers timers(loop);
  timers.after(40ms, [&] { order.push_back(2); });
  timers.after(20ms, [&] { order.push_back(1); });
  loop.runOnce(0ms);
  clock.advance(19ms);
  loop.runOnce(0ms);
  EXPECT_TRUE(order.empty());
  clock.advance(1ms);
  loop.runOnce(0ms);
  EXPECT_EQ(order, (std::vector<int>{1}));
  clock.advance(19ms);
  loop.runOnce(0ms);
  EXPECT_EQ(order, (std::vector<int>{1}));
  clock.advance(1ms);
  loop.runOnce(0ms);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(LoopTest, CancelledTimerNeverFires) {
  ferry::test::ManualClock clock;
  Loop loop;
  int fired = 0;
  int kept = 0;
  Timers timers(loop);
  Timer& cancelled = timers.after(5ms, [&] { fired++; });
  timers.after(20ms, [&] { kept++; });
  cancelled.cancel();
  cancelled.cancel();  // twice: no-op
  EXPECT_EQ(loop.timerCount(), 1u);
  clock.advance(20ms);
  loop.runOnce(0ms);
  EXPECT_EQ(kept, 1);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(loop.timerCount(), 0u);
}

TEST(LoopTest, CancelFromInsideAnotherTimerInTheSameTick) {
  Loop loop;
  TimePoint base = Clock::now() - 1s;
  std::vector<int> order;
  Timers timers(loop);
  Timer victim(loop);
  timers.at(base, [&] {
    order.push_back(1);
    victim.cancel();
  });
  victim.arm(base + 1ms, [&] { order.push_back(2); });
  timers.at(base + 2ms, [&] { order.push_back(3); });
  loop.runOnce(0ms);
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
  EXPECT_EQ(loop.timerCount(), 0u);
}

TEST(LoopTest, CancellingTheLastPendingTimerFromATimerCallback) {
  ferry::test::ManualClock clock;
  Loop loop;
  int laterFired = 0;
  Timers timers(loop);
  Timer& later = timers.after(10ms, [&] { laterFired++; });
  timers.after(0ms, [&] { later.cancel(); });
  loop.runOnce(0ms);
  clock.advance(50ms);
  loop.runOnce(0ms);
  EXPECT_EQ(laterFired, 0);
  EXPECT_EQ(loop.timerCount(), 0u);
}

TEST(LoopTest, RearmingADeadlineKeepsTheHeapBounded) {
  Loop loop;
  int fired = 0;
  Timer deadline(loop);
  for (int i = 0; i < 10000; ++i) {
    deadline.armAfter(std::chrono::milliseconds(1 + i % 7), [&] { fired++; });
    EXPECT_LE(loop.timerHeapSize(), 2 * loop.timerCount() + 64);
  }
  EXPECT_EQ(loop.timerCount(), 1u);
  ASSERT_TRUE(runUntil(loop, [&] { return fired == 1; }));
  EXPECT_EQ(loop.timerCount(), 0u);
}

TEST(LoopTest, AddTimerFromInsideATimer) {
  Loop loop;
  std::vector<int> order;
  Timers timers(loop);
  timers.after(0ms, [&] {
    order.push_back(1);
    timers.after(0ms, [&] { order.push_back(2); });
    timers.after(5ms, [&] { order.push_back(3); });
  });
  ASSERT_TRUE(runUntil(loop, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(LoopTest, DeferRunsAtTheEndOfTheTickAndMayDeferMore) {
  Loop loop;
  SocketPair pair;
  std::vector<std::string> order;
  loop.watch(pair.a.get(), EPOLLIN, [&](uint32_t) {
    order.push_back("fd");
    loop.defer([&] {
      order.push_back("defer");
      loop.defer([&] { order.push_back("defer-again"); });
    });
  });
  Timer timer(loop);
  timer.arm(Clock::now() - 1s, [&] { order.push_back("timer"); });
  pair.poke();
  loop.runOnce(1s);
  EXPECT_EQ(order, (std::vector<std::string>{"fd", "timer", "defer", "defer-again"}));
  loop.unwatch(pair.a.get());
}

TEST(LoopTest, PendingDeferDoesNotLetTheLoopSleep) {
  Loop loop;
  bool ran = false;
  loop.defer([&] { ran = true; });
  TimePoint start = Clock::now();
  loop.runOnce(10s);
  EXPECT_TRUE(ran);
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(LoopTest, PostFromAnotherThreadWakesABlockedLoop) {
  Loop loop;
  std::atomic<bool> ran{false};
  std::thread::id ranOn;
  std::thread poster([&] {
    // Gives the loop time to block; correctness does not depend on it.
    std::this_thread::sleep_for(50ms);
    loop.post([&] {
      ranOn = std::this_thread::get_id();
      ran = true;
    });
  });
  TimePoint start = Clock::now();
  loop.runOnce(30s);
  Duration waited = Clock::now() - start;
  poster.join();
  EXPECT_TRUE(ran);
  EXPECT_EQ(ranOn, std::this_thread::get_id());
  EXPECT_LT(waited, 10s);
}

TEST(LoopTest, ManyPostsFromManyThreadsEachRunOnce) {
  Loop loop;
  constexpr int kThreads = 4;
  constexpr int kPosts = 2000;
  int total = 0;  // touched only on the loop thread
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPosts; ++i) {
        loop.post([&] { total++; });
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_TRUE(runUntil(loop, [&] { return total == kThreads * kPosts; }));
  loop.runOnce(0ms);
  EXPECT_EQ(total, kThreads * kPosts);
}

TEST(LoopTest, StopFromATimerEndsRun) {
  Loop loop;
  int ticks = 0;
  Timers timers(loop);
  timers.after(1ms, [&] { ticks++; });
  timers.after(5ms, [&] { loop.stop(); });
  bool safetyFired = false;
  timers.after(10s, [&] { safetyFired = true; });
  loop.run();
  EXPECT_EQ(ticks, 1);
  EXPECT_FALSE(safetyFired);
}

TEST(LoopTest, StopFromAnotherThreadEndsRun) {
  Loop loop;
  std::atomic<bool> started{false};
  loop.post([&] { started = true; });
  std::thread stopper([&] {
    TimePoint deadline = Clock::now() + 10s;
    while (!started && Clock::now() < deadline) {
      std::this_thread::yield();
    }
    loop.stop();
  });
  bool safetyFired = false;
  Timer safety(loop);
  safety.armAfter(20s, [&] {
    safetyFired = true;
    loop.stop();
  });
  loop.run();
  stopper.join();
  EXPECT_TRUE(started);
  EXPECT_FALSE(safetyFired);
}

TEST(LoopTest, StopBeforeRunIsNotLost) {
  // A thread that stops a loop which has not reached run() yet must not leave run() spinning.
  Loop loop;
  bool safetyFired = false;
  Timer safety(loop);
  safety.armAfter(2s, [&] {
    safetyFired = true;
    loop.stop();
  });
  loop.stop();
  loop.run();
  EXPECT_FALSE(safetyFired);
}

TEST(LoopTest, WatchedCountReturnsToZero) {
  Loop loop;
  std::array<SocketPair, 8> pairs;
  for (SocketPair& pair : pairs) {
    loop.watch(pair.a.get(), EPOLLIN, [](uint32_t) {});
    loop.watch(pair.b.get(), EPOLLIN | EPOLLOUT, [](uint32_t) {});
  }
  EXPECT_EQ(loop.watchedCount(), 16u);
  loop.runOnce(0ms);
  for (SocketPair& pair : pairs) {
    loop.unwatch(pair.a.get());
    loop.unwatch(pair.b.get());
    loop.unwatch(pair.b.get());  // twice: no-op
  }
  loop.unwatch(100000);  // never watched: no-op
  EXPECT_EQ(loop.watchedCount(), 0u);
}

}  // namespace
}  // namespace ferry::io
