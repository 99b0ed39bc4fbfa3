#include "io/Socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "io/Loop.h"
#include "support/RunUntil.h"

namespace ferry::io {
namespace {

using test::runUntil;

Address loopback(const char* text = "127.0.0.1:0") {
  auto address = Address::parse(text);
  EXPECT_TRUE(address) << address.error().message;
  return *address;
}

/// Accepts one pending connection, driving `loop` until it arrives.
Fd acceptOne(Loop& loop, int listenFd) {
  Fd accepted;
  loop.watch(listenFd, EPOLLIN, [&](uint32_t) { accepted = acceptTcp(listenFd); });
  runUntil(loop, [&] { return accepted.valid(); });
  loop.unwatch(listenFd);
  return accepted;
}

TEST(SocketTest, ListenOnPortZeroGetsAPort) {
  auto listener = listenTcp(loopback());
  ASSERT_TRUE(listener) << listener.error().message;
  Address bound = localAddress(listener->get());
  EXPECT_EQ(bound.family(), AF_INET);
  EXPECT_NE(bound.port(), 0);
  EXPECT_EQ(bound.toString(), "127.0.0.1:" + std::to_string(bound.port()));
}

TEST(SocketTest, ListenOnIpv6Loopback) {
  auto listener = listenTcp(loopback("[::1]:0"));
  if (!listener && listener.error().code == EADDRNOTAVAIL) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ASSERT_TRUE(listener) << listener.error().message;
  EXPECT_EQ(localAddress(listener->get()).family(), AF_INET6);
}

TEST(SocketTest, ListenOnAPortInUseNamesTheAddress) {
  auto first = listenTcp(loopback());
  ASSERT_TRUE(first) << first.error().message;
  Address bound = localAddress(first->get());
  auto second = listenTcp(bound);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EADDRINUSE);
  EXPECT_NE(second.error().message.find(bound.toString()), std::string::npos)
      << second.error().message;
}

TEST(SocketTest, ConnectToARefusedPortReportsEconnrefused) {
  Address target;
  {
    // A port that was just free: bound, never listened on, then closed.
    Fd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    Address any = loopback();
    ASSERT_EQ(::bind(probe.get(), any.get(), any.length()), 0);
    target = localAddress(probe.get());
  }
  auto connecting = connectTcp(target);
  if (!connecting) {
    // Loopback may refuse synchronously; the error must then say so and name the target.
    EXPECT_EQ(connecting.error().code, ECONNREFUSED);
    EXPECT_NE(connecting.error().message.find(target.toString()), std::string::npos);
    return;
  }
  Loop loop;
  uint32_t seen = 0;
  loop.watch(connecting->get(), EPOLLOUT, [&](uint32_t events) { seen = events; });
  ASSERT_TRUE(runUntil(loop, [&] { return seen != 0; }));
  loop.unwatch(connecting->get());
  EXPECT_TRUE(seen & (EPOLLOUT | EPOLLERR));
  EXPECT_EQ(socketError(connecting->get()), ECONNREFUSED);
}

TEST(SocketTest, ConnectAcceptAndExchangeBytes) {
  auto listener = listenTcp(loopback());
  ASSERT_TRUE(listener) << listener.error().message;
  Address bound = localAddress(listener->get());
  auto client = connectTcp(bound);
  ASSERT_TRUE(client) << client.error().message;
  Loop loop;
  Fd server = acceptOne(loop, listener->get());
  ASSERT_TRUE(server.valid());

  bool connected = false;
  loop.watch(client->get(), EPOLLOUT, [&](uint32_t) { connected = true; });
  ASSERT_TRUE(runUntil(loop, [&] { return connected; }));
  loop.unwatch(client->get());
  EXPECT_EQ(socketError(client->get()), 0);

  ASSERT_EQ(::write(client->get(), "ping", 4), 4);
  char reply[8] = {};
  ssize_t got = -1;
  loop.watch(server.get(), EPOLLIN, [&](uint32_t) { got = ::read(server.get(), reply, 8); });
  ASSERT_TRUE(runUntil(loop, [&] { return got >= 0; }));
  loop.unwatch(server.get());
  EXPECT_EQ(std::string(reply, static_cast<size_t>(got)), "ping");

  errno = 0;
  Fd none = acceptTcp(listener->get());
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(errno, EAGAIN);
}

TEST(SocketTest, BlockingConnect) {
  auto listener = listenTcp(loopback());
  ASSERT_TRUE(listener);
  auto client = connectTcpBlocking(localAddress(listener->get()));
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_EQ(socketError(client->get()), 0);
}

TEST(SocketTest, ResetAndCloseMakesThePeerSeeEconnreset) {
  auto listener = listenTcp(loopback());
  ASSERT_TRUE(listener);
  auto client = connectTcpBlocking(localAddress(listener->get()));
  ASSERT_TRUE(client) << client.error().message;
  Loop loop;
  Fd server = acceptOne(loop, listener->get());
  ASSERT_TRUE(server.valid());
  resetAndClose(server);
  EXPECT_FALSE(server.valid());
  char byte;
  errno = 0;
  EXPECT_EQ(::read(client->get(), &byte, 1), -1);  // blocking: waits for the RST
  EXPECT_EQ(errno, ECONNRESET);
}

}  // namespace
}  // namespace ferry::io
