#include "io/Loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "io/Timer.h"
#include "support/ManualClock.h"
#include "support/RunUntil.h"

// What the loop runs when: timers in deadline order, deferred and posted callbacks, stop.
namespace ferry::io {
namespace {

using test::runUntil;

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

TEST(LoopRunTest, TimersFireInDeadlineThenCreationOrder) {
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

TEST(LoopRunTest, FutureTimersWaitForTheirDeadline) {
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

TEST(LoopRunTest, CancelledTimerNeverFires) {
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

TEST(LoopRunTest, CancelFromInsideAnotherTimerInTheSameTick) {
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

TEST(LoopRunTest, CancellingTheLastPendingTimerFromATimerCallback) {
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

TEST(LoopRunTest, RearmingADeadlineKeepsTheHeapBounded) {
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

TEST(LoopRunTest, AddTimerFromInsideATimer) {
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

TEST(LoopRunTest, PendingDeferDoesNotLetTheLoopSleep) {
  Loop loop;
  bool ran = false;
  loop.defer([&] { ran = true; });
  TimePoint start = Clock::now();
  loop.runOnce(10s);
  EXPECT_TRUE(ran);
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(LoopRunTest, PostFromAnotherThreadWakesABlockedLoop) {
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

TEST(LoopRunTest, ManyPostsFromManyThreadsEachRunOnce) {
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

TEST(LoopRunTest, StopFromATimerEndsRun) {
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

TEST(LoopRunTest, StopFromAnotherThreadEndsRun) {
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

TEST(LoopRunTest, StopBeforeRunIsNotLost) {
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

}  // namespace
}  // namespace ferry::io