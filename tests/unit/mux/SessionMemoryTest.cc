// Session behaviour over the in-memory carrier, plus what needs a scripted peer (the data
// path from a scripted peer is in SessionDataPathTest.cc).
#include <optional>

#include "ScriptedPeer.h"
#include "support/ManualClock.h"
#include "support/MemoryCarrierPair.h"
#include "support/SessionBehaviour.h"

namespace ferry::test {
namespace {

struct MemoryCarriers {
  static std::pair<mux::CarrierPtr, mux::CarrierPtr> make(io::Loop& loop) {
    return MemoryCarrierPair(loop).takeBoth();
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, SessionBehaviour, MemoryCarriers);

TEST(SessionScripted, SendsHelloFirst) {
  ScriptedPeer scripted(mux::Role::Client);
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return !scripted.sink.frames.empty(); }));
  EXPECT_EQ(scripted.sink.frames[0].type, proto::FrameType::Hello);
  proto::HelloPayload hello;
  ASSERT_TRUE(proto::decodeHello(
      {reinterpret_cast<const uint8_t*>(scripted.sink.payloads[0].data()), 8}, hello));
  EXPECT_EQ(hello.version, proto::kProtocolVersion);
  EXPECT_EQ(hello.role, static_cast<uint8_t>(mux::Role::Client));
  EXPECT_EQ(hello.heartbeatMs, 1000u);
}

TEST(SessionScripted, VersionMismatchEndsTheSessionWithAClearReason) {
  ScriptedPeer scripted(mux::Role::Client);
  scripted.hello(proto::kProtocolVersion + 1, mux::Role::Server);
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return scripted.handler.ended == 1; }));
  EXPECT_NE(scripted.handler.reason.find("version mismatch"), std::string::npos)
      << scripted.handler.reason;
  EXPECT_FALSE(scripted.session->established());
  EXPECT_EQ(scripted.sink.count(proto::FrameType::Bye), 1);
}

TEST(SessionScripted, SameRoleAndFramesBeforeHelloAreProtocolErrors) {
  ScriptedPeer sameRole(mux::Role::Server);
  sameRole.hello(proto::kProtocolVersion, mux::Role::Server);
  ASSERT_TRUE(runUntil(sameRole.loop, [&] { return sameRole.handler.ended == 1; }));
  EXPECT_NE(sameRole.handler.reason.find("also a server"), std::string::npos);

  ScriptedPeer early(mux::Role::Server);
  early.peer->send(proto::FrameType::Data, 1, {});
  ASSERT_TRUE(runUntil(early.loop, [&] { return early.handler.ended == 1; }));
  EXPECT_NE(early.handler.reason.find("before the peer's Hello"), std::string::npos);
}

TEST(SessionScripted, DataForUnknownStreamGetsOneRst) {
  ScriptedPeer scripted(mux::Role::Server);
  scripted.hello(proto::kProtocolVersion, mux::Role::Client);
  uint8_t byte = 'x';
  for (int i = 0; i < 3; ++i) {
    scripted.peer->send(proto::FrameType::Data, 41, {&byte, 1});
  }
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return scripted.session->established(); }));
  ASSERT_TRUE(
      runUntil(scripted.loop, [&] { return scripted.sink.count(proto::FrameType::Rst) >= 1; }));
  for (int i = 0; i < 5; ++i) {
    scripted.loop.runOnce(1ms);
  }
  EXPECT_EQ(scripted.sink.count(proto::FrameType::Rst), 1);
  EXPECT_EQ(scripted.handler.ended, 0);
}

TEST(SessionScripted, DataBeyondCreditResetsTheStream) {
  Listener destination;
  mux::SessionConfig config;
  config.streamWindow = 1000;
  ScriptedPeer scripted(mux::Role::Server, config);
  scripted.handler.destination = destination.address;
  scripted.hello(proto::kProtocolVersion, mux::Role::Client);
  scripted.peer->send(proto::FrameType::Open, 1, {});
  std::vector<uint8_t> tooMuch(1001, 'y');
  scripted.peer->send(proto::FrameType::Data, 1, tooMuch);
  ASSERT_TRUE(
      runUntil(scripted.loop, [&] { return scripted.sink.count(proto::FrameType::Rst) == 1; }));
  EXPECT_EQ(scripted.session->stats().openStreams, 0u);
  EXPECT_EQ(scripted.handler.ended, 0);
}

TEST(SessionScripted, SilentPeerIsDeclaredDead) {
  mux::SessionConfig config;
  config.deadPeerTimeout = 200ms;
  config.heartbeatInterval = 50ms;
  // Frozen before the hello arrives, so the silence is measured from the peer's last frame (a
  // clock frozen later would hide the time the handshake took: 20 ms under ASan on a slow VM).
  ManualClock clock;
  ScriptedPeer scripted(mux::Role::Client, config);
  scripted.hello(proto::kProtocolVersion, mux::Role::Server, 50);
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return scripted.session->established(); }));
  auto took =
      clock.advanceUntil(scripted.loop, 10ms, 3s, [&] { return scripted.handler.ended == 1; });
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, 200ms);
  EXPECT_LT(*took, 1s);
  EXPECT_NE(scripted.handler.reason.find("peer dead"), std::string::npos);
  // It kept pinging while waiting: nothing else was sent.
  EXPECT_GE(scripted.sink.count(proto::FrameType::Ping), 2);
}

TEST(SessionScripted, PeerThatNeverSaysHelloIsDroppedAtTheDeadline) {
  mux::SessionConfig config;
  config.deadPeerTimeout = 200ms;
  config.heartbeatInterval = 50ms;
  ManualClock clock;
  ScriptedPeer scripted(mux::Role::Client, config);
  auto took =
      clock.advanceUntil(scripted.loop, 10ms, 3s, [&] { return scripted.handler.ended == 1; });
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, 200ms);
  EXPECT_LT(*took, 1s);
  EXPECT_NE(scripted.handler.reason.find("did not complete the handshake"), std::string::npos)
      << scripted.handler.reason;
}

TEST(SessionScripted, UnclaimedSessionWaitsForItsPeerIndefinitely) {
  mux::SessionConfig config;
  config.deadPeerTimeout = 100ms;
  config.heartbeatInterval = 50ms;
  ManualClock clock;
  ScriptedPeer scripted(mux::Role::Client, config, /*presentAtStart=*/false);
  // No server yet (an unclaimed directory session): no deadline runs.
  EXPECT_FALSE(
      clock.advanceUntil(scripted.loop, 10ms, 1s, [&] { return scripted.handler.ended == 1; }));
  scripted.hello(proto::kProtocolVersion, mux::Role::Server, 50);
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return scripted.session->established(); }));
}

TEST(SessionPairTimers, HeartbeatsKeepAnIdleSessionAlive) {
  io::Loop loop;
  mux::SessionConfig config;
  config.deadPeerTimeout = 200ms;
  config.heartbeatInterval = 50ms;
  MemoryCarrierPair carriers(loop);
  SessionPair pair(loop, carriers.take(MemoryCarrierPair::kClient),
                   carriers.take(MemoryCarrierPair::kServer), config);
  ASSERT_TRUE(pair.establish());
  ManualClock clock;
  EXPECT_FALSE(clock.advanceUntil(loop, 10ms, 1s, [&] { return pair.clientHandler.ended > 0; }));
  EXPECT_EQ(pair.serverHandler.ended, 0);
  // Then the server's carrier goes silent: the client notices within the timeout.
  carriers.silence(MemoryCarrierPair::kServer);
  auto took = clock.advanceUntil(loop, 10ms, 2s, [&] { return pair.clientHandler.ended == 1; });
  ASSERT_TRUE(took.has_value());
  EXPECT_LT(*took, 400ms);
  EXPECT_NE(pair.clientHandler.reason.find("peer dead"), std::string::npos);
}

TEST(SessionLifetime, DestroyingASessionBeforeItsDeferredCallbacksIsSafe) {
  io::Loop loop;
  auto carriers = MemoryCarrierPair(loop).takeBoth();
  TestHandler handler;
  auto session =
      std::make_unique<mux::Session>(loop, std::move(carriers.first), mux::Role::Client, handler);
  session->start();
  session->shutdown("gone");
  session.reset();
  loop.runOnce(1ms);
  EXPECT_EQ(handler.ended, 0);
  EXPECT_EQ(loop.watchedCount(), 0u);
}

}  // namespace
}  // namespace ferry::test

namespace ferry::test {
namespace {

/// Opens a stream whose result is recorded and answered with `reply`; returns the app socket.
Endpoint openWithResult(SessionPair& pair, const std::string& target, const std::string& reply,
                        std::optional<mux::OpenResult>& result,
                        const std::string& firstBytes = "") {
  Endpoint app;
  app.fd = std::move(*io::connectTcpBlocking(pair.application.address));
  io::setNonBlocking(app.fd.get());
  pair.client->openStream(
      pair.application.accept(pair.loop), target,
      [&result, reply](const mux::OpenResult& what) {
        EXPECT_FALSE(result.has_value()) << "told twice";
        result = what;
        return reply;
      },
      firstBytes);
  return app;
}

TEST(OpenResultTest, OpenedComesBeforeTheDestinationsBytesAndTheReplyGoesFirst) {
  io::Loop loop;
  auto carriers = MemoryCarrierPair(loop).takeBoth();
  SessionPair pair(loop, std::move(carriers.first), std::move(carriers.second));
  ASSERT_TRUE(pair.establish());
  std::optional<mux::OpenResult> result;
  Endpoint app = openWithResult(pair, "", "REPLY;", result, "first;");
  Endpoint dest;
  dest.fd = pair.destination.accept(loop);
  dest.toSend = "from destination";
  ASSERT_TRUE(pair.pumpUntil(
      {&app, &dest}, [&] { return app.received.size() >= 22 && dest.received.size() >= 6; }));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->opened);
  EXPECT_EQ(app.received, "REPLY;from destination");
  EXPECT_EQ(dest.received, "first;") << "first bytes are sent right after the Open";
}

TEST(OpenResultTest, ARefusedConnectGivesItsCodeAndTheReplyThenAPlainClose) {
  io::Loop loop;
  auto carriers = MemoryCarrierPair(loop).takeBoth();
  SessionPair pair(loop, std::move(carriers.first), std::move(carriers.second));
  ASSERT_TRUE(pair.establish());
  std::string closedPort;
  {
    Listener gone;
    closedPort = gone.address.toString();
  }
  std::optional<mux::OpenResult> result;
  Endpoint app = openWithResult(pair, closedPort, "NO", result);
  ASSERT_TRUE(pair.pumpUntil({&app}, [&] { return app.eof || app.error != 0; }));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->opened);
  EXPECT_EQ(result->code, proto::RstCode::Refused);
  EXPECT_EQ(app.received, "NO");
  EXPECT_EQ(app.error, 0) << "closed, not reset, so the application reads the reply";
}

TEST(OpenResultTest, DataWaitsForADeferredConnectAndARefusalCarriesItsCode) {
  io::Loop loop;
  auto carriers = MemoryCarrierPair(loop).takeBoth();
  SessionPair pair(loop, std::move(carriers.first), std::move(carriers.second));
  pair.serverHandler.deferConnects = true;
  ASSERT_TRUE(pair.establish());
  std::optional<mux::OpenResult> waiting;
  Endpoint app = openWithResult(pair, "", "", waiting);
  app.toSend = "early bytes";
  ASSERT_TRUE(pair.pumpUntil({&app}, [&] { return pair.serverHandler.deferred.size() == 1; }));
  runUntil(
      loop, [] { return false; }, 50ms);  // the early bytes reach the server meanwhile
  pair.serverHandler.finishConnect("", pair.serverHandler.deferred[0].second);
  Endpoint dest;
  dest.fd = pair.destination.accept(loop);
  ASSERT_TRUE(pair.pumpUntil({&app, &dest}, [&] { return dest.received.size() >= 11; }));
  EXPECT_EQ(dest.received, "early bytes");

  std::optional<mux::OpenResult> refused;
  Endpoint second = openWithResult(pair, "db.test:1", "", refused);
  ASSERT_TRUE(runUntil(loop, [&] { return pair.serverHandler.deferred.size() == 2; }));
  pair.serverHandler.deferred[1].second(
      std::unexpected(mux::OpenError{proto::RstCode::NameNotResolved, "no such name"}));
  ASSERT_TRUE(runUntil(loop, [&] { return refused.has_value(); }));
  EXPECT_EQ(refused->code, proto::RstCode::NameNotResolved);
  EXPECT_EQ(refused->reason, "no such name");
}

uint64_t pingCounter(const std::string& payload) {
  return payload.size() == 8 ? proto::getU64(reinterpret_cast<const uint8_t*>(payload.data())) : 0;
}

TEST(SessionScripted, EchoesPingsAndTimesTheEchoesOfItsOwn) {
  mux::SessionConfig config;
  config.heartbeatInterval = 50ms;
  ScriptedPeer scripted(mux::Role::Client, config);
  scripted.hello(proto::kProtocolVersion, mux::Role::Server, 50);
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return scripted.session->established(); }));
  // The peer's Ping(7) comes back with the echo bit set.
  uint8_t ping[8];
  proto::putU64(ping, 7);
  scripted.peer->send(proto::FrameType::Ping, 0, ping);
  constexpr uint64_t kEcho = uint64_t{1} << 63;
  auto sent = [&](uint64_t counter) {
    for (const std::string& payload : scripted.sink.payloads) {
      if (pingCounter(payload) == counter) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return sent(7 | kEcho); }));
  // Its own heartbeat Ping, echoed by the peer, gives one round-trip sample; a repeated echo
  // gives none.
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return sent(1); }));
  proto::putU64(ping, 1 | kEcho);
  scripted.peer->send(proto::FrameType::Ping, 0, ping);
  scripted.peer->send(proto::FrameType::Ping, 0, ping);
  ASSERT_TRUE(
      runUntil(scripted.loop, [&] { return scripted.session->stats().roundTrips.count > 0; }));
  scripted.loop.runOnce(10ms);
  EXPECT_EQ(scripted.session->stats().roundTrips.count, 1u);
  EXPECT_EQ(scripted.session->info().carrier.kind, "other");
}

}  // namespace
}  // namespace ferry::test