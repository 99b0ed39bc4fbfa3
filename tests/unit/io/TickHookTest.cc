#include "io/TickHook.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace ferry::io {
namespace {

TEST(TickHookTest, ManyRequestsInATickRunTheCallbackOnce) {
  Loop loop;
  int runs = 0;
  TickHook hook(loop, [&] { runs++; });
  loop.runOnce(0ms);
  EXPECT_EQ(runs, 0) << "ran without a request";
  for (int i = 0; i < 5; ++i) {
    hook.request();
  }
  EXPECT_TRUE(hook.requested());
  loop.runOnce(0ms);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(hook.requested());
  hook.request();
  loop.runOnce(0ms);
  EXPECT_EQ(runs, 2);
}

TEST(TickHookTest, RunsInTheOrderOfItsFirstRequestAmongDeferredCallbacks) {
  Loop loop;
  std::vector<std::string> order;
  TickHook hook(loop, [&] { order.push_back("hook"); });
  loop.defer([&] { order.push_back("a"); });
  hook.request();
  loop.defer([&] { order.push_back("b"); });
  hook.request();
  loop.runOnce(0ms);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "hook", "b"}));
}

TEST(TickHookTest, DestroyedOrCancelledHookDoesNotRun) {
  Loop loop;
  int runs = 0;
  auto destroyed = std::make_unique<TickHook>(loop, [&] { runs++; });
  TickHook cancelled(loop, [&] { runs++; });
  TickHook kept(loop, [&] { runs += 100; });
  destroyed->request();
  cancelled.request();
  kept.request();
  destroyed.reset();
  cancelled.cancel();
  EXPECT_FALSE(cancelled.requested());
  loop.runOnce(0ms);
  EXPECT_EQ(runs, 100);
}

TEST(TickHookTest, HookDestroyedByAnEarlierCallbackOfTheSameBatchDoesNotRun) {
  Loop loop;
  int runs = 0;
  auto hook = std::make_unique<TickHook>(loop, [&] { runs++; });
  loop.defer([&] { hook.reset(); });
  hook->request();
  loop.runOnce(0ms);
  EXPECT_EQ(runs, 0);
}

TEST(TickHookTest, CallbackMayRequestItselfAgainAndRunsInTheNextBatchOfTheTick) {
  Loop loop;
  int runs = 0;
  TickHook hook(loop, [&] {
    if (++runs < 3) {
      hook.request();
    }
  });
  hook.request();
  loop.runOnce(0ms);
  EXPECT_EQ(runs, 3);
  EXPECT_FALSE(hook.requested());
}

TEST(TickHookTest, ARequestMadeWhileTheLoopRunsABatchCanBeCancelled) {
  // The request sits in the next batch while the current one runs; cancelling must find it there.
  Loop loop;
  int runs = 0;
  TickHook hook(loop, [&] { runs++; });
  loop.defer([&] {
    hook.request();
    hook.cancel();
    hook.request();
  });
  loop.runOnce(0ms);
  EXPECT_EQ(runs, 1);
}

TEST(TickHookTest, CallbackMayDestroyItsHook) {
  Loop loop;
  int runs = 0;
  TickHook other(loop, [&] { runs++; });
  std::unique_ptr<TickHook> hook;
  // Like `delete this`, the destruction is the callback's last action (a session's end report).
  hook = std::make_unique<TickHook>(loop, [&] {
    other.request();
    hook.reset();
  });
  hook->request();
  loop.runOnce(0ms);
  EXPECT_EQ(hook, nullptr);
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace ferry::io
