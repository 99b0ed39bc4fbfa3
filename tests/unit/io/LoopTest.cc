#include "io/Loop.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <string>
#include <vector>

#include "io/Timer.h"
#include "support/RunUntil.h"

// The loop's file descriptor watches; timers, defer, post and stop are in LoopRunTest.cc.
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