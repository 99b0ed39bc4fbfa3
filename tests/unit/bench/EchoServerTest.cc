#include "bench/EchoServer.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "bench/Pattern.h"
#include "io/Socket.h"
#include "support/RunUntil.h"

namespace ferry::bench {
namespace {

using test::runUntil;

class EchoServerTest : public ::testing::TestWithParam<const char*> {
 protected:
  io::Address start(EchoServer& server) {
    auto bound = server.listen(*io::Address::parse(GetParam()));
    EXPECT_TRUE(bound) << bound.error().message;
    EXPECT_NE(bound->port(), 0);
    return *bound;
  }
  io::Loop loop_;
};

// More than the socket buffers hold, so the server must queue echo bytes and stop reading
// (the backpressure path), and must still echo everything before answering our FIN.
TEST_P(EchoServerTest, EchoesEverythingThenHalfClosesAfterClientEof) {
  EchoServer server(loop_, false);
  io::Address address = start(server);
  auto client = io::connectTcp(address);
  ASSERT_TRUE(client);
  int fd = client->get();
  std::vector<uint8_t> sent(8 << 20);
  fillPattern(sent, 7);
  std::vector<uint8_t> received;
  size_t written = 0;
  bool finSent = false;
  bool eof = false;
  ASSERT_TRUE(runUntil(loop_, [&] {
    if (written < sent.size()) {
      ssize_t n =
          ::write(fd, sent.data() + written, std::min<size_t>(sent.size() - written, 65536));
      if (n > 0) {
        written += static_cast<size_t>(n);
      }
    } else if (!finSent) {
      ::shutdown(fd, SHUT_WR);
      finSent = true;
    }
    uint8_t chunk[65536];
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      received.insert(received.end(), chunk, chunk + n);
    } else if (n == 0) {
      eof = true;
    }
    return eof;
  }));
  EXPECT_EQ(received.size(), sent.size());
  EXPECT_FALSE(firstMismatch(sent, received));
  EXPECT_TRUE(runUntil(loop_, [&] { return server.connectionCount() == 0; }));
  EXPECT_EQ(server.bytesReceived(), sent.size());
}

TEST_P(EchoServerTest, SinkDropsBytesAndClosesAfterEof) {
  EchoServer server(loop_, true);
  io::Address address = start(server);
  auto client = io::connectTcpBlocking(address);
  ASSERT_TRUE(client);
  std::vector<uint8_t> sent(100000, 0x5a);
  ASSERT_EQ(::write(client->get(), sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  ::shutdown(client->get(), SHUT_WR);
  io::setNonBlocking(client->get());
  bool eof = false;
  size_t echoed = 0;
  ASSERT_TRUE(runUntil(loop_, [&] {
    uint8_t chunk[4096];
    ssize_t n = ::read(client->get(), chunk, sizeof chunk);
    echoed += n > 0 ? static_cast<size_t>(n) : 0;
    eof = eof || n == 0;
    return eof;
  }));
  EXPECT_EQ(echoed, 0u);
  EXPECT_EQ(server.bytesReceived(), sent.size());
  EXPECT_EQ(server.connectionCount(), 0u);
}

TEST_P(EchoServerTest, ServesManyConnectionsAndForgetsResetOnes) {
  EchoServer server(loop_, false);
  io::Address address = start(server);
  std::vector<io::Fd> clients;
  for (int i = 0; i < 200; ++i) {
    auto client = io::connectTcp(address);
    ASSERT_TRUE(client);
    clients.push_back(std::move(*client));
  }
  ASSERT_TRUE(runUntil(loop_, [&] { return server.connectionCount() == clients.size(); }));
  for (io::Fd& client : clients) {
    io::resetAndClose(client);
  }
  EXPECT_TRUE(runUntil(loop_, [&] { return server.connectionCount() == 0; }));
}

TEST_P(EchoServerTest, ListeningOnABusyPortFailsWithAClearError) {
  EchoServer first(loop_, false);
  io::Address address = start(first);
  EchoServer second(loop_, false);
  auto bound = second.listen(address);
  ASSERT_FALSE(bound);
  EXPECT_NE(bound.error().message.find("in use"), std::string::npos) << bound.error().message;
}

INSTANTIATE_TEST_SUITE_P(V4AndV6, EchoServerTest, ::testing::Values("127.0.0.1:0", "[::1]:0"));

}  // namespace
}  // namespace ferry::bench
