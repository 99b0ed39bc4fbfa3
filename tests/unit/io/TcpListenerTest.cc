#include "io/TcpListener.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <vector>

#include "io/Log.h"
#include "io/Socket.h"
#include "support/RunUntil.h"

namespace ferry::io {
namespace {

using test::runUntil;

Address loopback() {
  return *Address::parse("127.0.0.1:0");
}

/// Fills the descriptor table (under a lowered soft limit) until open() fails with EMFILE, and
/// gives everything back on destruction.
class DescriptorsExhausted {
 public:
  DescriptorsExhausted() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = 256;
    ::setrlimit(RLIMIT_NOFILE, &low);
    while (true) {
      Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (!fd) {
        break;
      }
      held_.push_back(std::move(fd));
    }
  }
  ~DescriptorsExhausted() {
    held_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  void release() { held_.clear(); }

 private:
  rlimit saved_{};
  std::vector<Fd> held_;
};

/// True once the peer of `client` closed or reset it.
bool refused(const Fd& client) {
  char byte;
  ssize_t n = ::recv(client.get(), &byte, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN);
}

TEST(TcpListenerTest, AcceptsAndHandsOverSockets) {
  Loop loop;
  auto fd = listenTcp(loopback());
  ASSERT_TRUE(fd);
  Address bound = localAddress(fd->get());
  std::vector<Fd> accepted;
  TcpListener listener(loop, std::move(*fd), "test",
                       [&](Fd socket) { accepted.push_back(std::move(socket)); });
  auto a = connectTcpBlocking(bound);
  auto b = connectTcpBlocking(bound);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(runUntil(loop, [&] { return accepted.size() == 2; }));
}

TEST(TcpListenerTest, PausedByItsOwnerLeavesConnectionsInTheBacklogUntilResumed) {
  Loop loop;
  auto fd = listenTcp(loopback());
  ASSERT_TRUE(fd);
  Address bound = localAddress(fd->get());
  std::vector<Fd> accepted;
  TcpListener* self = nullptr;
  TcpListener listener(loop, std::move(*fd), "test", [&](Fd socket) {
    accepted.push_back(std::move(socket));
    self->pause();  // at its limit after one: the second connection must wait
  });
  self = &listener;
  auto a = connectTcpBlocking(bound);
  auto b = connectTcpBlocking(bound);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(runUntil(loop, [&] { return accepted.size() == 1; }));
  // The second connection is established in the kernel's backlog; paused, it is not taken.
  EXPECT_FALSE(runUntil(
      loop, [&] { return accepted.size() > 1; }, std::chrono::milliseconds(200)));
  listener.resume();
  EXPECT_TRUE(runUntil(loop, [&] { return accepted.size() == 2; }));
}

TEST(TcpListenerTest, OutOfDescriptorsRefusesPendingClientsPausesAndResumes) {
  Loop loop;
  auto fd = listenTcp(loopback());
  ASSERT_TRUE(fd);
  Address bound = localAddress(fd->get());
  int accepted = 0;
  int wakeups = 0;
  TcpListener listener(loop, std::move(*fd), "test", [&](Fd) { accepted++; });
  std::vector<Fd> clients;
  for (int i = 0; i < 3; ++i) {
    auto client = connectTcpBlocking(bound);
    ASSERT_TRUE(client);
    clients.push_back(std::move(*client));
  }
  // Under the sanitizers the first type check of a logger or formatter call needs a descriptor:
  // make that check now, and keep the log quiet while none are left.
  spdlog::debug("exhausting descriptors");
  auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  {
    DescriptorsExhausted exhausted;
    // Each pending client is refused (accepted into the reserve descriptor and reset).
    ASSERT_TRUE(runUntil(loop, [&] {
      wakeups++;
      return listener.refusedCount() == 3;
    }));
    for (const Fd& client : clients) {
      EXPECT_TRUE(refused(client));
    }
    // Paused rather than spinning: a whole second of loop ticks with descriptors still
    // exhausted costs few wakeups (each runOnce waits for events up to 10 ms).
    wakeups = 0;
    TimePoint end = Clock::now() + 1s;
    while (Clock::now() < end) {
      loop.runOnce(10ms);
      wakeups++;
    }
    EXPECT_LE(wakeups, 150);
    EXPECT_EQ(accepted, 0);
  }
  spdlog::set_level(level);
  // Descriptors are free again: the next client is served.
  auto late = connectTcpBlocking(bound);
  ASSERT_TRUE(late);
  ASSERT_TRUE(runUntil(loop, [&] { return accepted == 1; }));
}

}  // namespace
}  // namespace ferry::io
