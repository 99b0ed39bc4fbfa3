// Session behaviour over the in-memory carrier, plus what needs a scripted peer.
#include <optional>

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

/// One session whose peer is the test, speaking through `peer` (the other end of the pair).
struct ScriptedPeer {
  io::Loop loop;
  TestHandler handler;
  mux::CarrierPtr peer;
  std::unique_ptr<mux::Session> session;

  explicit ScriptedPeer(mux::Role role, mux::SessionConfig config = {},
                        bool presentAtStart = true) {
    MemoryCarrierPair pair(loop);
    if (!presentAtStart) {
      pair.setClientAwaitsPeer();
    }
    peer = pair.take(MemoryCarrierPair::kServer);
    peer->start();
    session = std::make_unique<mux::Session>(loop, pair.take(MemoryCarrierPair::kClient), role,
                                             handler, config);
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
    void onCarrierFailed(const io::Error&) override { failed = true; }
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

/// Opens stream 1 of a scripted server session to `destination`; returns the accepted socket.
Endpoint openScriptedStream(ScriptedPeer& scripted, Listener& destination) {
  scripted.handler.destination = destination.address;
  scripted.hello(proto::kProtocolVersion, mux::Role::Client);
  scripted.peer->send(proto::FrameType::Open, 1, {});
  Endpoint dest;
  dest.fd = destination.accept(scripted.loop);
  EXPECT_TRUE(dest.fd.valid());
  io::setNonBlocking(dest.fd.get());
  return dest;
}

/// The test as a client sending stream 1 of a scripted server session as fast as its credit
/// allows (a bulk sender limited by credit only), noting the most credit it ever held.
struct CreditBoundSender {
  ScriptedPeer& scripted;
  uint64_t limit;  // bytes to send in all
  uint64_t credit = proto::kInitialStreamWindow;
  uint64_t largestCredit = credit;
  uint64_t sent = 0;
  size_t framesSeen = 0;

  void pump() {
    const auto& sink = scripted.sink;
    for (; framesSeen < sink.frames.size(); ++framesSeen) {
      if (sink.frames[framesSeen].type == proto::FrameType::Window) {
        credit += proto::getU32(reinterpret_cast<const uint8_t*>(sink.payloads[framesSeen].data()));
      }
    }
    largestCredit = std::max(largestCredit, credit);
    static const std::vector<uint8_t> frame(64 * 1024, 'z');
    while (credit > 0 && sent < limit) {
      size_t n = std::min<uint64_t>({credit, frame.size(), limit - sent});
      scripted.peer->send(proto::FrameType::Data, 1, {frame.data(), n});
      credit -= n;
      sent += n;
    }
  }
  /// Sends and lets `dest` read until it has everything or `timeout` passed.
  bool run(Endpoint& dest, io::Duration timeout = 20s) {
    return runUntil(
        scripted.loop,
        [&] {
          pump();
          dest.pump();
          return dest.received.size() >= limit;
        },
        timeout);
  }
};

constexpr uint64_t kInitial = proto::kInitialStreamWindow;

/// Data frames of `frameBytes` each, `total` bytes of a counting pattern, for stream 1.
std::string sendPattern(ScriptedPeer& scripted, size_t total, size_t frameBytes) {
  std::string pattern(total, '\0');
  for (size_t i = 0; i < total; ++i) {
    pattern[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  }
  for (size_t at = 0; at < total; at += frameBytes) {
    std::string_view frame = std::string_view(pattern).substr(at, frameBytes);
    scripted.peer->send(proto::FrameType::Data, 1, proto::textPayload(frame));
  }
  return pattern;
}

/// Lets `dest` read until it has `sent`, and checks it got exactly that, in order.
void expectDelivered(ScriptedPeer& scripted, Endpoint& dest, const std::string& sent) {
  ASSERT_TRUE(runUntil(scripted.loop, [&] {
    dest.pump();
    return dest.received.size() >= sent.size();
  }));
  EXPECT_EQ(dest.received, sent);
  EXPECT_EQ(scripted.session->stats().bytesToSockets, sent.size());
}

TEST(DirectWrite, DataForAnIdleSocketIsWrittenWithoutBuffering) {
  Listener destination;
  ScriptedPeer scripted(mux::Role::Server);
  Endpoint dest = openScriptedStream(scripted, destination);
  std::string sent = sendPattern(scripted, 64 * 1024, 4096);
  expectDelivered(scripted, dest, sent);
  // The socket took every frame as it came: no chunk was ever taken from the pool.
  EXPECT_EQ(scripted.session->stats().bufferBytes, 0u);
}

TEST(DirectWrite, WhatAFullSocketLeavesIsQueuedAndKeepsItsOrder) {
  Listener destination;
  destination.limitBuffers(16 * 1024);
  ScriptedPeer scripted(mux::Role::Server);
  scripted.handler.socketBuffer = 16 * 1024;
  Endpoint dest = openScriptedStream(scripted, destination);
  dest.reading = false;
  std::string sent = sendPattern(scripted, kInitial, 20000);
  // The socket fills up: the rest of the window waits in the stream's chunks.
  ASSERT_TRUE(runUntil(scripted.loop, [&] {
    const auto& stats = scripted.session->stats();
    return stats.bufferBytes > 0 && stats.bytesToSockets < sent.size();
  }));
  dest.reading = true;
  expectDelivered(scripted, dest, sent);
}

TEST(CreditTuning, WindowGrowsWhileTheDestinationKeepsUp) {
  Listener destination;
  ScriptedPeer scripted(mux::Role::Server);
  Endpoint dest = openScriptedStream(scripted, destination);
  CreditBoundSender sender{scripted, 24 << 20};
  ASSERT_TRUE(sender.run(dest));
  EXPECT_GE(sender.largestCredit, 4 * kInitial);
  EXPECT_LE(sender.largestCredit, mux::SessionConfig{}.maxStreamWindow);
  EXPECT_EQ(scripted.session->stats().bytesToSockets, sender.limit);
}

/// The credit increments of the Window frames the session sent so far, in order.
std::vector<uint32_t> windowIncrements(const ScriptedPeer& scripted) {
  std::vector<uint32_t> increments;
  for (size_t i = 0; i < scripted.sink.frames.size(); ++i) {
    if (scripted.sink.frames[i].type == proto::FrameType::Window) {
      increments.push_back(
          proto::getU32(reinterpret_cast<const uint8_t*>(scripted.sink.payloads[i].data())));
    }
  }
  return increments;
}

/// Half a window, then (if `blocked`) Blocked and another half, each after the session's Window
/// for the one before: what a sender that sees credit late sends. Returns the Window increments.
std::vector<uint32_t> halfWindowsWithBlocked(bool blocked) {
  Listener destination;
  ScriptedPeer scripted(mux::Role::Server);
  Endpoint dest = openScriptedStream(scripted, destination);
  for (size_t half = 1; half <= 2; ++half) {
    if (half == 2 && blocked) {
      scripted.peer->send(proto::FrameType::Blocked, 1, {});
    }
    sendPattern(scripted, kInitial / 2, 64 * 1024);
    EXPECT_TRUE(runUntil(scripted.loop, [&] {
      dest.pump();
      return windowIncrements(scripted).size() >= half;
    }));
  }
  return windowIncrements(scripted);
}

TEST(CreditTuning, BlockedFromTheSenderGrowsTheNextReturn) {
  // Seen by the receiver the sender kept half its window: without Blocked no growth...
  std::vector<uint32_t> plain = halfWindowsWithBlocked(false);
  ASSERT_GE(plain.size(), 2u);
  EXPECT_EQ(plain[1], kInitial / 2);
  // ...with it, the return after it doubles the window.
  std::vector<uint32_t> grown = halfWindowsWithBlocked(true);
  ASSERT_GE(grown.size(), 2u);
  EXPECT_EQ(grown[0], kInitial / 2);
  EXPECT_EQ(grown[1], kInitial / 2 + kInitial);
}

TEST(CreditTuning, ASenderOutOfCreditSaysBlockedOncePerWindow) {
  Listener destination;
  ScriptedPeer scripted(mux::Role::Server);
  Endpoint dest = openScriptedStream(scripted, destination);
  dest.toSend.assign(kInitial + 100000, 'b');  // more than the credit the session holds
  auto sentData = [&] {
    uint64_t bytes = 0;
    for (size_t i = 0; i < scripted.sink.frames.size(); ++i) {
      if (scripted.sink.frames[i].type == proto::FrameType::Data) {
        bytes += scripted.sink.payloads[i].size();
      }
    }
    return bytes;
  };
  ASSERT_TRUE(runUntil(scripted.loop, [&] {
    dest.pump();
    return sentData() == kInitial && scripted.sink.count(proto::FrameType::Blocked) == 1;
  }));
  for (int i = 0; i < 5; ++i) {
    scripted.loop.runOnce(1ms);
  }
  EXPECT_EQ(scripted.sink.count(proto::FrameType::Blocked), 1);
  // New credit, used up again by a full read: a second Blocked.
  uint8_t increment[4];
  proto::putU32(increment, 4096);
  scripted.peer->send(proto::FrameType::Window, 1, increment);
  ASSERT_TRUE(runUntil(scripted.loop, [&] {
    dest.pump();
    return sentData() == kInitial + 4096 && scripted.sink.count(proto::FrameType::Blocked) == 2;
  }));
}

TEST(CreditTuning, WindowStaysForAStalledDestination) {
  Listener destination;
  destination.limitBuffers(64 * 1024);
  ScriptedPeer scripted(mux::Role::Server);
  scripted.handler.socketBuffer = 64 * 1024;
  Endpoint dest = openScriptedStream(scripted, destination);
  dest.reading = false;
  CreditBoundSender sender{scripted, 8 << 20};
  EXPECT_FALSE(sender.run(dest, 500ms));
  EXPECT_LE(sender.largestCredit, kInitial);
  // What the session holds for the socket is bounded by the initial window.
  EXPECT_LE(sender.sent, scripted.session->stats().bytesToSockets + kInitial);
}

TEST(CreditTuning, GrowthStopsAtTheSessionCap) {
  Listener destination;
  mux::SessionConfig config;
  config.sessionBuffer = 2 * kInitial;
  ScriptedPeer scripted(mux::Role::Server, config);
  Endpoint dest = openScriptedStream(scripted, destination);
  CreditBoundSender sender{scripted, 16 << 20};
  ASSERT_TRUE(sender.run(dest));
  EXPECT_GT(sender.largestCredit, kInitial);
  EXPECT_LE(sender.largestCredit, config.sessionBuffer);
}

TEST(CreditTuning, AnIdleStreamGivesItsBuffersBack) {
  Listener destination;
  mux::SessionConfig config;
  config.heartbeatInterval = 50ms;  // the session timer, which runs the idle sweep
  ScriptedPeer scripted(mux::Role::Server, config);
  Endpoint dest = openScriptedStream(scripted, destination);
  CreditBoundSender sender{scripted, 8 << 20};
  // A destination that pauses makes the stream queue bytes in chunks (a socket that keeps up
  // takes Data straight from the carrier's input).
  dest.reading = false;
  ASSERT_TRUE(runUntil(scripted.loop, [&] {
    sender.pump();
    return scripted.session->stats().bufferBytes > 16 * 1024;
  }));
  dest.reading = true;
  ASSERT_TRUE(sender.run(dest));
  ManualClock clock;
  auto idleFor = clock.advanceUntil(
      scripted.loop, 10ms, 5s, [&] { return scripted.session->stats().bufferBytes <= 16 * 1024; });
  ASSERT_TRUE(idleFor.has_value());
  EXPECT_LT(*idleFor, 2s);
  EXPECT_EQ(scripted.session->stats().openStreams, 1u);
}

TEST(SessionScripted, SilentPeerIsDeclaredDead) {
  mux::SessionConfig config;
  config.deadPeerTimeout = 200ms;
  config.heartbeatInterval = 50ms;
  ScriptedPeer scripted(mux::Role::Client, config);
  scripted.hello(proto::kProtocolVersion, mux::Role::Server, 50);
  ASSERT_TRUE(runUntil(scripted.loop, [&] { return scripted.session->established(); }));
  ManualClock clock;
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
