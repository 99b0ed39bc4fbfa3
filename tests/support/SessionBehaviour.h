#pragma once

// Session tests that hold over any carrier: instantiated over the in-memory carrier (unit_mux),
// over StreamCarrier on a socketpair and over DirCarrier on tmpfs (unit_carrier) with a type
// giving `std::pair<mux::CarrierPtr, mux::CarrierPtr> make(io::Loop&)`. One object of that type
// lives as long as the test, so it may own what its carriers need (a directory, an acceptor).

#include <cerrno>
#include <vector>

#include "support/SessionHarness.h"

namespace ferry::test {

template <typename Carriers>
class SessionBehaviour : public ::testing::Test {
 protected:
  std::unique_ptr<SessionPair> makePair(mux::SessionConfig config = {}) {
    auto [clientCarrier, serverCarrier] = carriers_.make(loop_);
    auto pair = std::make_unique<SessionPair>(loop_, std::move(clientCarrier),
                                              std::move(serverCarrier), config);
    EXPECT_TRUE(pair->establish());
    return pair;
  }
  io::Loop loop_;
  Carriers carriers_;  // after loop_: destroyed before it
};

TYPED_TEST_SUITE_P(SessionBehaviour);

TYPED_TEST_P(SessionBehaviour, DataBothWaysIsByteExact) {
  auto pair = this->makePair();
  auto [app, dest] = pair->open();
  app.toSend = patternBytes(1 << 20, 1);
  dest.toSend = patternBytes(700 * 1000, 2);
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] {
    return dest.received.size() >= app.toSend.size() && app.received.size() >= dest.toSend.size();
  }));
  EXPECT_EQ(dest.received, app.toSend);
  EXPECT_EQ(app.received, dest.toSend);
  EXPECT_EQ(pair->client->stats().bytesFromSockets, app.toSend.size());
  EXPECT_EQ(pair->server->stats().bytesToSockets, app.toSend.size());
  EXPECT_EQ(pair->client->stats().openStreams, 1u);
}

TYPED_TEST_P(SessionBehaviour, StalledDestinationStallsOnlyItsOwnStream) {
  auto pair = this->makePair();
  pair->limitBuffers(64 * 1024);
  auto [stuckApp, stuckDest] = pair->open();
  auto [app, dest] = pair->open();
  stuckDest.reading = false;  // never reads until told
  stuckApp.toSend = patternBytes(16 << 20, 3);
  app.toSend = patternBytes(6 << 20, 4);
  ASSERT_TRUE(pair->pumpUntil({&stuckApp, &stuckDest, &app, &dest},
                              [&] { return dest.received.size() >= app.toSend.size(); }));
  EXPECT_EQ(dest.received, app.toSend);
  // The stuck stream stays stalled: the client read at most one window more than the server
  // could write to the destination, and the rest waits in small kernel buffers. That window may
  // have doubled once: the first Data frame, as large as the initial window, can go into the
  // destination's kernel buffers at once while its sender is out of credit (evidence for growth);
  // after that the server holds bytes, and a stalled destination never grows a window.
  pair->pumpUntil(
      {&stuckApp, &stuckDest}, [] { return false; }, 100ms);
  uint64_t clientRead = pair->client->stats().bytesFromSockets - app.toSend.size();
  uint64_t serverWrote = pair->server->stats().bytesToSockets - app.toSend.size();
  EXPECT_LE(clientRead, serverWrote + 2 * proto::kInitialStreamWindow);
  EXPECT_LT(stuckApp.sent, size_t{2} << 20);
  stuckDest.reading = true;
  ASSERT_TRUE(pair->pumpUntil({&stuckApp, &stuckDest},
                              [&] { return stuckDest.received.size() >= stuckApp.toSend.size(); }));
  EXPECT_EQ(stuckDest.received, stuckApp.toSend);
}

TYPED_TEST_P(SessionBehaviour, HalfCloseFromClientKeepsTheOtherDirection) {
  auto pair = this->makePair();
  auto [app, dest] = pair->open();
  app.toSend = "request";
  app.shutWrite = true;
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] { return dest.eof; }));
  EXPECT_EQ(dest.received, "request");
  dest.toSend = patternBytes(300 * 1000, 5);
  dest.shutWrite = true;
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] { return app.eof; }));
  EXPECT_EQ(app.received, dest.toSend);
  EXPECT_EQ(app.error, 0);
  ASSERT_TRUE(runUntil(this->loop_, [&] {
    return pair->client->stats().openStreams == 0 && pair->server->stats().openStreams == 0;
  }));
  EXPECT_EQ(pair->client->stats().streamErrors, 0u);
}

TYPED_TEST_P(SessionBehaviour, HalfCloseFromServerKeepsTheOtherDirection) {
  auto pair = this->makePair();
  auto [app, dest] = pair->open();
  dest.toSend = "banner";
  dest.shutWrite = true;
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] { return app.eof; }));
  EXPECT_EQ(app.received, "banner");
  app.toSend = patternBytes(300 * 1000, 6);
  app.shutWrite = true;
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] { return dest.eof; }));
  EXPECT_EQ(dest.received, app.toSend);
  ASSERT_TRUE(runUntil(this->loop_, [&] {
    return pair->client->stats().openStreams == 0 && pair->server->stats().openStreams == 0;
  }));
}

TYPED_TEST_P(SessionBehaviour, ResetFromApplicationResetsDestination) {
  auto pair = this->makePair();
  auto [app, dest] = pair->open();
  app.toSend = "hello";
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] { return dest.received == "hello"; }));
  io::resetAndClose(app.fd);
  ASSERT_TRUE(pair->pumpUntil(
      {&dest}, [&] { return dest.error != 0 || dest.eof; }, 5s));
  EXPECT_EQ(dest.error, ECONNRESET);
  ASSERT_TRUE(runUntil(this->loop_, [&] { return pair->server->stats().openStreams == 0; }));
  EXPECT_EQ(pair->client->stats().openStreams, 0u);
}

TYPED_TEST_P(SessionBehaviour, ResetFromDestinationResetsApplication) {
  auto pair = this->makePair();
  auto [app, dest] = pair->open();
  dest.toSend = "hi";
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] { return app.received == "hi"; }));
  io::resetAndClose(dest.fd);
  ASSERT_TRUE(pair->pumpUntil(
      {&app}, [&] { return app.error != 0 || app.eof; }, 5s));
  EXPECT_EQ(app.error, ECONNRESET);
  EXPECT_GE(pair->client->stats().streamErrors, 1u);
}

TYPED_TEST_P(SessionBehaviour, RefusedConnectResetsApplicationPromptly) {
  auto pair = this->makePair();
  std::string closedPort;
  {
    Listener gone;
    closedPort = gone.address.toString();
  }
  io::TimePoint began = io::Clock::now();
  auto [app, unused] = pair->open(closedPort);
  app.toSend = "pipelined before the refusal";
  ASSERT_TRUE(pair->pumpUntil(
      {&app}, [&] { return app.error != 0 || app.eof; }, 5s));
  EXPECT_EQ(app.error, ECONNRESET);
  EXPECT_LT(io::Clock::now() - began, 1s);
  EXPECT_EQ(pair->server->stats().streamErrors, 1u);
  EXPECT_EQ(pair->client->stats().streamErrors, 1u);
  EXPECT_EQ(pair->client->stats().openStreams, 0u);
}

TYPED_TEST_P(SessionBehaviour, TwoHundredConcurrentStreamsEcho) {
  auto pair = this->makePair();
  constexpr int kStreams = 200;
  std::vector<Endpoint> apps(kStreams);
  std::vector<Endpoint> dests(kStreams);
  std::vector<Endpoint*> all;
  for (int i = 0; i < kStreams; ++i) {
    auto [app, dest] = pair->open();
    apps[i] = std::move(app);
    dests[i] = std::move(dest);
    apps[i].toSend = patternBytes(20000 + i * 97, 100 + i);
    dests[i].echo = true;
  }
  ASSERT_TRUE(runUntil(
      this->loop_,
      [&] {
        bool done = true;
        for (int i = 0; i < kStreams; ++i) {
          apps[i].pump();
          dests[i].pump();
          done = done && apps[i].received.size() >= apps[i].toSend.size();
        }
        return done;
      },
      30s));
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(apps[i].received, apps[i].toSend) << "stream " << i;
  }
  EXPECT_EQ(pair->client->stats().openStreams, static_cast<uint64_t>(kStreams));
  EXPECT_EQ(pair->server->stats().totalStreams, static_cast<uint64_t>(kStreams));
}

TYPED_TEST_P(SessionBehaviour, ByeEndsBothSessionsAndResetsStreams) {
  auto pair = this->makePair();
  auto [app, dest] = pair->open();
  app.toSend = "x";
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] { return dest.received == "x"; }));
  pair->client->shutdown("test over");
  ASSERT_TRUE(pair->pumpUntil({&app, &dest}, [&] {
    return pair->clientHandler.ended == 1 && pair->serverHandler.ended == 1 &&
           (dest.error != 0 || dest.eof) && (app.error != 0 || app.eof);
  }));
  EXPECT_EQ(app.error, ECONNRESET);
  EXPECT_EQ(dest.error, ECONNRESET);
  EXPECT_NE(pair->serverHandler.reason.find("test over"), std::string::npos)
      << pair->serverHandler.reason;
  EXPECT_EQ(pair->server->stats().openStreams, 0u);
  // Ended is reported once, however long the loop runs afterwards.
  for (int i = 0; i < 10; ++i) {
    this->loop_.runOnce(1ms);
  }
  EXPECT_EQ(pair->clientHandler.ended, 1);
  EXPECT_EQ(pair->serverHandler.ended, 1);
}

REGISTER_TYPED_TEST_SUITE_P(SessionBehaviour, DataBothWaysIsByteExact,
                            StalledDestinationStallsOnlyItsOwnStream,
                            HalfCloseFromClientKeepsTheOtherDirection,
                            HalfCloseFromServerKeepsTheOtherDirection,
                            ResetFromApplicationResetsDestination,
                            ResetFromDestinationResetsApplication,
                            RefusedConnectResetsApplicationPromptly,
                            TwoHundredConcurrentStreamsEcho, ByeEndsBothSessionsAndResetsStreams);

}  // namespace ferry::test
