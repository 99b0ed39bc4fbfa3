// Session behaviour over the in-memory carrier, plus what needs a scripted peer.
#include "MemoryCarrier.h"
#include "SessionBehaviour.h"

namespace ferry::test {
namespace {

struct MemoryCarriers {
  static std::pair<mux::CarrierPtr, mux::CarrierPtr> make(io::Loop& loop) {
    auto pair = MemoryCarrier::makePair(loop);
    return {std::move(pair.a), std::move(pair.b)};
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, SessionBehaviour, MemoryCarriers);

/// One session whose peer is the test, speaking through `peer` (the other end of the pair).
struct ScriptedPeer {
  io::Loop loop;
  TestHandler handler;
  MemoryCarrier* peer = nullptr;  // owned by `peerOwner`
  std::unique_ptr<MemoryCarrier> peerOwner;
  std::unique_ptr<mux::Session> session;

  explicit ScriptedPeer(mux::Role role, mux::SessionConfig config = {},
                        bool presentAtStart = true) {
    auto pair = MemoryCarrier::makePair(loop);
    pair.a->presentAtStart = presentAtStart;
    peerOwner = std::move(pair.b);
    peer = peerOwner.get();
    peer->start();
    session = std::make_unique<mux::Session>(loop, std::move(pair.a), role, handler, config);
    peer->setListener(&sink);
    session->start();
  }
  void hello(uint16_t version, mux::Role role, uint32_t heartbeatMs = 1000) {
    proto::HelloPayload hello;
    hello.version = version;
    hello.role = static_cast<uint8_t>(role);
    hello.heartbeatMs = heartbeatMs;
    uint8_t payload[proto::HelloPayload::kSize];
    proto::encodeHello(hello, payload);
    peer->send(proto::FrameType::Hello, 0, payload);
  }

  /// Records the frames the session sends.
  struct Sink : mux::CarrierListener {
    std::vector<proto::FrameHeader> frames;
    std::vector<std::string> payloads;
    bool failed = false;
    void onFrame(const proto::Frame& frame) override {
      frames.push_back(frame.header);
      payloads.emplace_back(reinterpret_cast<const char*>(frame.payload.data()),
                            frame.payload.size());
    }
    void onCarrierFailed(const std::string&) override { failed = true; }
    void onCarrierWritable() override {}
    int count(proto::FrameType type) const {
      int n = 0;
      for (const auto& header : frames) {
        n += header.type == type ? 1 : 0;
      }
      return n;
    }
  } sink;
};

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
  ScriptedPeer scripted(mux::Role::Client, config);
  scripted.hello(proto::kProtocolVersion, mux::Role::Server, 50);
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return scripted.session->established(); }));
  io::TimePoint silentSince = io::Clock::now();
  ASSERT_TRUE(runUntil(
      scripted.loop, [&] { return scripted.handler.ended == 1; }, 3s));
  io::Duration took = io::Clock::now() - silentSince;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 1s);
  EXPECT_NE(scripted.handler.reason.find("peer dead"), std::string::npos);
  // It kept pinging while waiting: nothing else was sent.
  EXPECT_GE(scripted.sink.count(proto::FrameType::Ping), 2);
}

TEST(SessionScripted, PeerThatNeverSaysHelloIsDroppedAtTheDeadline) {
  mux::SessionConfig config;
  config.deadPeerTimeout = 200ms;
  config.heartbeatInterval = 50ms;
  io::TimePoint start = io::Clock::now();
  ScriptedPeer scripted(mux::Role::Client, config);
  ASSERT_TRUE(runUntil(
      scripted.loop, [&] { return scripted.handler.ended == 1; }, 3s));
  EXPECT_LT(io::Clock::now() - start, 1s);
  EXPECT_NE(scripted.handler.reason.find("did not complete the handshake"), std::string::npos)
      << scripted.handler.reason;
}

TEST(SessionScripted, UnclaimedSessionWaitsForItsPeerIndefinitely) {
  mux::SessionConfig config;
  config.deadPeerTimeout = 100ms;
  config.heartbeatInterval = 50ms;
  ScriptedPeer scripted(mux::Role::Client, config, /*presentAtStart=*/false);
  // No server yet (an unclaimed directory session): no deadline runs.
  EXPECT_FALSE(runUntil(
      scripted.loop, [&] { return scripted.handler.ended == 1; }, 400ms));
  scripted.hello(proto::kProtocolVersion, mux::Role::Server, 50);
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return scripted.session->established(); }));
}

TEST(SessionPairTimers, HeartbeatsKeepAnIdleSessionAlive) {
  io::Loop loop;
  mux::SessionConfig config;
  config.deadPeerTimeout = 200ms;
  config.heartbeatInterval = 50ms;
  auto carriers = MemoryCarrier::makePair(loop);
  MemoryCarrier* serverCarrier = carriers.b.get();
  SessionPair pair(loop, std::move(carriers.a), std::move(carriers.b), config);
  ASSERT_TRUE(pair.establish());
  EXPECT_FALSE(runUntil(
      loop, [&] { return pair.clientHandler.ended > 0; }, 700ms));
  EXPECT_EQ(pair.serverHandler.ended, 0);
  // Then the server's carrier goes silent: the client notices within the timeout.
  serverCarrier->silent = true;
  ASSERT_TRUE(runUntil(
      loop, [&] { return pair.clientHandler.ended == 1; }, 2s));
  EXPECT_NE(pair.clientHandler.reason.find("peer dead"), std::string::npos);
}

TEST(SessionLifetime, DestroyingASessionBeforeItsDeferredCallbacksIsSafe) {
  io::Loop loop;
  auto carriers = MemoryCarrier::makePair(loop);
  TestHandler handler;
  auto session =
      std::make_unique<mux::Session>(loop, std::move(carriers.a), mux::Role::Client, handler);
  session->start();
  session->shutdown("gone");
  session.reset();
  loop.runOnce(1ms);
  EXPECT_EQ(handler.ended, 0);
  EXPECT_EQ(loop.watchedCount(), 0u);
}

}  // namespace
}  // namespace ferry::test
