// What a reload changes in a running tunnel: TunnelClient::removeListener stops new connections
// but keeps the streams it carries; TunnelServer::setPolicy decides only new streams.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "carrier/stream/TcpCarrierAcceptor.h"
#include "carrier/stream/TcpCarrierConnector.h"
#include "forward/TunnelClient.h"
#include "forward/TunnelServer.h"
#include "io/Signals.h"
#include "io/Socket.h"
#include "support/RunUntil.h"

namespace ferry::forward {
namespace {

using test::runUntil;

io::Address loopback(uint16_t port = 0) {
  return *io::Address::parse("127.0.0.1:" + std::to_string(port));
}

/// A destination that echoes every connection, pumped by the test between loop ticks.
struct EchoDestination {
  io::Fd listener = *io::listenTcp(loopback());
  std::vector<io::Fd> connections;

  std::string address() const { return io::localAddress(listener.get()).toString(); }
  void pump() {
    while (io::Fd accepted = io::acceptTcp(listener.get())) {
      connections.push_back(std::move(accepted));
    }
    char buffer[4096];
    for (io::Fd& connection : connections) {
      ssize_t got = ::read(connection.get(), buffer, sizeof buffer);
      if (got > 0) {
        ASSERT_EQ(::write(connection.get(), buffer, got), got);
      }
    }
  }
};

/// A client and a server joined by the TCP carrier on loopback, and a user side that connects.
struct Tunnel {
  io::Loop loop;
  EchoDestination echo;
  carrier::stream::TcpCarrierAcceptor acceptor{loop, loopback()};
  std::unique_ptr<TunnelServer> server;
  std::unique_ptr<carrier::stream::TcpCarrierConnector> connector;
  std::unique_ptr<TunnelClient> client;

  explicit Tunnel(std::vector<std::string> allowed) {
    io::ignoreSigpipe();
    server = std::make_unique<TunnelServer>(loop, acceptor, policy(allowed), mux::SessionConfig{});
    EXPECT_TRUE(server->start());
    connector =
        std::make_unique<carrier::stream::TcpCarrierConnector>(loop, acceptor.localAddress());
    client = std::make_unique<TunnelClient>(loop, *connector, mux::SessionConfig{});
    EXPECT_TRUE(client->start());
  }

  static TargetPolicy policy(const std::vector<std::string>& allowed) {
    return *TargetPolicy::create(std::nullopt, allowed);
  }

  /// Sends `text` on `user` and waits for its echo through the tunnel; "" if none came back.
  std::string roundTrip(const io::Fd& user, const std::string& text) {
    EXPECT_EQ(::write(user.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    std::string echoed;
    runUntil(loop, [&] {
      echo.pump();
      char buffer[256];
      ssize_t got = ::read(user.get(), buffer, sizeof buffer);
      if (got > 0) {
        echoed.append(buffer, got);
      }
      return echoed.size() >= text.size() || got == 0 || (got < 0 && errno != EAGAIN);
    });
    return echoed;
  }
};

io::Fd connectUser(const io::Address& address) {
  auto fd = io::connectTcpBlocking(address);
  if (!fd) {
    return io::Fd();
  }
  io::setNonBlocking(fd->get());
  return std::move(*fd);
}

TEST(TunnelChangeTest, RemovedListenerRefusesNewConnectionsButKeepsItsStreams) {
  Tunnel tunnel({});
  std::string target = tunnel.echo.address();
  tunnel.server->setPolicy(Tunnel::policy({target}));
  auto bound = tunnel.client->addListener(loopback(), target);
  ASSERT_TRUE(bound) << bound.error().message;
  io::Fd before = connectUser(*bound);
  ASSERT_TRUE(before.valid());
  EXPECT_EQ(tunnel.roundTrip(before, "before"), "before");

  EXPECT_FALSE(tunnel.client->removeListener(loopback(), "127.0.0.1:1"));  // no such listener
  EXPECT_TRUE(tunnel.client->removeListener(loopback(), target));
  EXPECT_FALSE(connectUser(*bound).valid()) << "the port still accepts";
  EXPECT_EQ(tunnel.roundTrip(before, "still there"), "still there");
}

TEST(TunnelChangeTest, NewPolicyDecidesNewStreamsOnly) {
  Tunnel tunnel({"127.0.0.1:1"});  // the echo destination is not allowed yet
  std::string target = tunnel.echo.address();
  auto bound = tunnel.client->addListener(loopback(), target);
  ASSERT_TRUE(bound) << bound.error().message;
  io::Fd refused = connectUser(*bound);
  ASSERT_TRUE(refused.valid());
  EXPECT_EQ(tunnel.roundTrip(refused, "x"), "") << "a destination not allowed was opened";

  tunnel.server->setPolicy(Tunnel::policy({target}));
  io::Fd allowed = connectUser(*bound);
  ASSERT_TRUE(allowed.valid());
  EXPECT_EQ(tunnel.roundTrip(allowed, "now allowed"), "now allowed");

  tunnel.server->setPolicy(Tunnel::policy({}));  // narrowed again: the open stream stays
  EXPECT_EQ(tunnel.roundTrip(allowed, "kept"), "kept");
}

}  // namespace
}  // namespace ferry::forward
