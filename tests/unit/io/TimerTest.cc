#include "io/Timer.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "support/ManualClock.h"

namespace ferry::io {
namespace {

TEST(TimerTest, FiresAtItsDeadlineAndDisarms) {
  test::ManualClock clock;
  Loop loop;
  Timer timer(loop);
  int fired = 0;
  timer.armAfter(10ms, [&] { fired++; });
  EXPECT_TRUE(timer.armed());
  clock.advance(9ms);
  loop.runOnce(0ms);
  EXPECT_EQ(fired, 0);
  EXPECT_TRUE(timer.armed());
  clock.advance(1ms);
  loop.runOnce(0ms);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.armed());
  EXPECT_EQ(loop.timerCount(), 0u);
}

TEST(TimerTest, ArmingAgainReplacesThePendingTimer) {
  test::ManualClock clock;
  Loop loop;
  Timer timer(loop);
  std::vector<int> fired;
  timer.armAfter(10ms, [&] { fired.push_back(1); });
  timer.arm(clock.now() + 20ms, [&] { fired.push_back(2); });
  EXPECT_EQ(loop.timerCount(), 1u);
  clock.advance(30ms);
  loop.runOnce(0ms);
  EXPECT_EQ(fired, (std::vector<int>{2}));
}

TEST(TimerTest, CancelAndDestructionStopIt) {
  test::ManualClock clock;
  Loop loop;
  int fired = 0;
  Timer cancelled(loop);
  cancelled.armAfter(5ms, [&] { fired++; });
  cancelled.cancel();
  cancelled.cancel();  // twice: no-op
  EXPECT_FALSE(cancelled.armed());
  {
    Timer destroyed(loop);
    destroyed.armAfter(5ms, [&] { fired++; });
  }
  EXPECT_EQ(loop.timerCount(), 0u);
  clock.advance(10ms);
  loop.runOnce(0ms);
  EXPECT_EQ(fired, 0);
}

TEST(TimerTest, CallbackMayRearmItForPeriodicWork) {
  test::ManualClock clock;
  Loop loop;
  Timer timer(loop);
  int fired = 0;
  std::function<void()> tick = [&] {
    fired++;
    timer.armAfter(10ms, tick);
  };
  timer.armAfter(10ms, tick);
  for (int i = 0; i < 3; ++i) {
    clock.advance(10ms);
    loop.runOnce(0ms);
  }
  EXPECT_EQ(fired, 3);
  EXPECT_TRUE(timer.armed());
  EXPECT_EQ(loop.timerCount(), 1u);
}

TEST(TimerTest, CallbackMayDestroyItsTimer) {
  test::ManualClock clock;
  Loop loop;
  auto timer = std::make_unique<Timer>(loop);
  auto witness = std::make_shared<int>(7);  // a capture that must stay valid while it runs
  int seen = 0;
  timer->armAfter(1ms, [&, witness] {
    timer.reset();
    seen = *witness;
  });
  clock.advance(1ms);
  loop.runOnce(0ms);
  EXPECT_EQ(seen, 7);
  EXPECT_EQ(timer, nullptr);
}

TEST(TimerTest, ATimerCancelledByAnotherInTheSameTickDoesNotFire) {
  test::ManualClock clock;
  Loop loop;
  Timer first(loop);
  Timer second(loop);
  int secondFired = 0;
  first.armAfter(1ms, [&] { second.cancel(); });
  second.armAfter(2ms, [&] { secondFired++; });
  clock.advance(5ms);
  loop.runOnce(0ms);
  EXPECT_EQ(secondFired, 0);
  EXPECT_EQ(loop.timerCount(), 0u);
}

}  // namespace
}  // namespace ferry::io
