#include "io/Signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <vector>

#include "support/RunUntil.h"

namespace ferry::io {
namespace {

TEST(SignalsTest, DeliversSignalsThroughTheLoop) {
  sigset_t saved;
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, nullptr, &saved), 0);
  Loop loop;
  std::vector<int> received;
  {
    Fd fd = watchSignals(loop, {SIGUSR1, SIGUSR2}, [&](int signal) { received.push_back(signal); });
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
    ASSERT_TRUE(test::runUntil(loop, [&] { return !received.empty(); }));
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    ASSERT_TRUE(test::runUntil(loop, [&] { return received.size() == 2; }));
    loop.unwatch(fd.get());
  }
  EXPECT_EQ(received, (std::vector<int>{SIGUSR1, SIGUSR2}));
  EXPECT_EQ(loop.watchedCount(), 0u);
  sigset_t pending;
  ASSERT_EQ(::sigpending(&pending), 0);
  EXPECT_FALSE(sigismember(&pending, SIGUSR1)) << "the signal stayed pending";
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, &saved, nullptr), 0);
}

TEST(SignalsTest, SignalWatchUnwatchesWhenDestroyed) {
  sigset_t saved;
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, nullptr, &saved), 0);
  Loop loop;
  int received = 0;
  {
    SignalWatch watch(loop, {SIGHUP}, [&](int signal) { received = signal; });
    ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
    ASSERT_TRUE(test::runUntil(loop, [&] { return received != 0; }));
  }
  EXPECT_EQ(received, SIGHUP);
  EXPECT_EQ(loop.watchedCount(), 0u);
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, &saved, nullptr), 0);
}

TEST(SignalsTest, IgnoreSigpipeTurnsBrokenPipesIntoEpipe) {
  ignoreSigpipe();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  errno = 0;
  EXPECT_EQ(::write(fds[1], "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  ::close(fds[1]);
}

}  // namespace
}  // namespace ferry::io
