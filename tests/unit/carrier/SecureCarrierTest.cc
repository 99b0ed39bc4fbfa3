// SecureCarrier over an in-memory carrier pair: round trips, what is delivered when, failures.
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ReserveTestUtil.h"
#include "SecureTestUtil.h"
#include "carrier/stream/StreamCarrier.h"
#include "io/Signals.h"
#include "support/SocketPair.h"

namespace ferry::carrier::secure::test {
namespace {

using proto::FrameType;

constexpr FrameType kSessionTypes[] = {FrameType::Hello,       FrameType::Open, FrameType::Data,
                                       FrameType::Fin,         FrameType::Rst,  FrameType::Window,
                                       FrameType::Ping,        FrameType::Bye,  FrameType::Listen,
                                       FrameType::ListenResult};

/// Frames of every session type with payloads from 0 to 64 KiB.
std::vector<Frame> makeFrames(size_t count, uint8_t seed) {
  const size_t specialSizes[] = {0, 1, 2, 15, 16, 17, 4095, 4096, 65535, 65536};
  std::vector<Frame> frames;
  for (size_t i = 0; i < count; ++i) {
    size_t size = i < std::size(specialSizes) ? specialSizes[i] : (i * 7919) % 65537;
    frames.push_back({kSessionTypes[i % std::size(kSessionTypes)],
                      static_cast<uint32_t>(i * 2654435761u), patternBytes(size, seed + i)});
  }
  return frames;
}

void sendAll(SecureCarrier& carrier, const std::vector<Frame>& frames, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    carrier.send(frames[i].type, frames[i].stream, frames[i].payload);
  }
}

void expectSameFrames(const std::vector<Frame>& got, const std::vector<Frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].type, want[i].type) << i;
    EXPECT_EQ(got[i].stream, want[i].stream) << i;
    EXPECT_EQ(got[i].payload, want[i].payload) << i;
  }
}

TEST(SecureCarrierTest, FramesRoundTripBothWays) {
  Key key = Key::generate();
  SecureEnds ends(key, key);
  std::vector<Frame> toServer = makeFrames(300, 1);
  std::vector<Frame> toClient = makeFrames(300, 2);
  // The first half is sent before the handshake (queued), the rest after it.
  sendAll(*ends.client, toServer, 0, 150);
  sendAll(*ends.server, toClient, 0, 150);
  ASSERT_TRUE(ends.handshake());
  sendAll(*ends.client, toServer, 150, 300);
  sendAll(*ends.server, toClient, 150, 300);
  ASSERT_TRUE(ends.runUntil([&] {
    return ends.serverListener.frames.size() == toServer.size() &&
           ends.clientListener.frames.size() == toClient.size();
  }));
  expectSameFrames(ends.serverListener.frames, toServer);
  expectSameFrames(ends.clientListener.frames, toClient);
  EXPECT_FALSE(ends.serverListener.failed()) << ends.serverListener.failure();
  EXPECT_FALSE(ends.clientListener.failed()) << ends.clientListener.failure();
}

TEST(SecureCarrierTest, ReservedFramesAreSealedInPlaceAndCancelledOnesNeverTravel) {
  Key key = Key::generate();
  SecureEnds ends(key, key);
  std::vector<Frame> frames = makeFrames(60, 5);
  auto sendReserved = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      carrier::testing::cancelReserved(*ends.client, 1);
      if (frames[i].payload.empty()) {  // an empty frame goes through send()
        ends.client->send(frames[i].type, frames[i].stream, {});
        continue;
      }
      ASSERT_TRUE(carrier::testing::sendReserved(*ends.client, frames[i].type, frames[i].stream,
                                                 frames[i].payload));
    }
  };
  // Before the keys exist a reservation is copied into the queue; after, sealed in place.
  sendReserved(0, 30);
  ASSERT_TRUE(ends.handshake());
  size_t carriedBefore = ends.pair.carried(MemoryCarrierPair::kClient).size();
  sendReserved(30, 60);
  ASSERT_TRUE(ends.runUntil([&] { return ends.serverListener.frames.size() == frames.size(); }));
  expectSameFrames(ends.serverListener.frames, frames);
  EXPECT_FALSE(ends.serverListener.failed()) << ends.serverListener.failure();
  // Exactly one SEALED record per frame: the cancelled reservations carried nothing.
  EXPECT_EQ(ends.pair.carried(MemoryCarrierPair::kClient).size() - carriedBefore, 30u);
}

TEST(SecureCarrierTest, StreamsReadAndAwaitCreditAsTheInnerCarrierDoes) {
  io::Loop loop;
  MemoryCarrierPair pair(loop);
  pair.setSocketReadBudget(1024 * 1024);  // as a dir carrier on a share
  Key key = Key::generate();
  SecureCarrier keyed(loop, pair.take(MemoryCarrierPair::kClient), key, Role::Client);
  EXPECT_EQ(keyed.socketReadBudget(), 1024u * 1024);
  keyed.creditAwaited();  // the inner carrier polls for the peer's Window as if unkeyed
  EXPECT_EQ(pair.creditAwaitedCalls(MemoryCarrierPair::kClient), 1);
}

TEST(SecureCarrierTest, NothingIsDeliveredBeforeThePeersProof) {
  Key key = Key::generate();
  SecureEnds ends(key, key);
  // Hold back everything the server sends after its hello: its proof and its records.
  std::vector<Frame> held;
  ends.pair.setTap(MemoryCarrierPair::kServer,
                   [&](Frame frame, const MemoryCarrierPair::Deliver& deliver) {
                     if (frame.type == FrameType::AuthHello) {
                       deliver(std::move(frame));
                     } else {
                       held.push_back(std::move(frame));
                     }
                   });
  std::vector<uint8_t> target = {'a', ':', '1'};
  ends.client->send(FrameType::Open, 1, target);
  ends.server->send(FrameType::Hello, 0, target);
  ends.start();
  ASSERT_TRUE(ends.runUntil(
      [&] { return ends.server->authenticated() && ends.serverListener.frames.size() == 1; }));
  // The server's proof and its sealed HELLO exist but have not arrived: the client delivers
  // nothing and is not authenticated.
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].type, FrameType::AuthProof);
  EXPECT_EQ(held[1].type, FrameType::Sealed);
  EXPECT_FALSE(ends.client->authenticated());
  EXPECT_TRUE(ends.clientListener.frames.empty());
  for (Frame& frame : held) {
    ends.pair.inject(MemoryCarrierPair::kClient, std::move(frame));
  }
  ASSERT_TRUE(ends.runUntil([&] { return ends.clientListener.frames.size() == 1; }));
  EXPECT_TRUE(ends.client->authenticated());
  EXPECT_EQ(ends.clientListener.frames[0].type, FrameType::Hello);
}

TEST(SecureCarrierTest, WrongKeyFailsBothSidesAndDeliversNothing) {
  SecureEnds ends(Key::generate(), Key::generate());
  std::vector<Frame> frames = makeFrames(20, 3);
  sendAll(*ends.client, frames, 0, frames.size());
  sendAll(*ends.server, frames, 0, frames.size());
  ends.start();
  ASSERT_TRUE(
      ends.runUntil([&] { return ends.clientListener.failed() && ends.serverListener.failed(); }));
  EXPECT_EQ(ends.clientListener.failure(), "peer failed key proof: wrong key or replayed session");
  EXPECT_EQ(ends.serverListener.failure(), "peer failed key proof: wrong key or replayed session");
  EXPECT_TRUE(ends.clientListener.frames.empty());
  EXPECT_TRUE(ends.serverListener.frames.empty());
  EXPECT_FALSE(ends.client->authenticated());
  EXPECT_FALSE(ends.server->authenticated());
  // Reported once, however many sealed records followed the bad proof.
  EXPECT_EQ(ends.clientListener.failures.size(), 1u);
  EXPECT_EQ(ends.serverListener.failures.size(), 1u);
}

TEST(SecureCarrierTest, PlaintextAndStreamIdsNeverTravel) {
  Key key = Key::generate();
  SecureEnds ends(key, key);
  const std::string text = "ferry-plaintext-marker-0123456!!";
  const std::vector<uint8_t> marker(text.begin(), text.end());
  ASSERT_EQ(marker.size(), 32u);
  constexpr uint32_t kStream = 0xabcd1234;
  std::vector<Frame> frames;
  frames.push_back({FrameType::Open, kStream, marker});
  for (size_t size : {32, 33, 100, 4096, 65536}) {
    std::vector<uint8_t> payload = patternBytes(size, 9);
    std::copy(marker.begin(), marker.end(), payload.end() - 32);
    frames.push_back({FrameType::Data, kStream, payload});
  }
  sendAll(*ends.client, frames, 0, frames.size());
  ASSERT_TRUE(ends.handshake());
  sendAll(*ends.client, frames, 0, frames.size());
  sendAll(*ends.server, frames, 0, frames.size());
  ASSERT_TRUE(ends.runUntil([&] {
    return ends.serverListener.frames.size() == 2 * frames.size() &&
           ends.clientListener.frames.size() == frames.size();
  }));
  ASSERT_TRUE(contains(ends.serverListener.frames[0].payload, marker));  // the search works
  for (MemoryCarrierPair::Side side : {MemoryCarrierPair::kClient, MemoryCarrierPair::kServer}) {
    std::vector<uint8_t> all;
    for (const Frame& frame : ends.pair.carried(side)) {
      EXPECT_EQ(frame.stream, 0u);
      EXPECT_TRUE(frame.type == FrameType::AuthHello || frame.type == FrameType::AuthProof ||
                  frame.type == FrameType::Sealed)
          << proto::frameTypeName(frame.type);
      EXPECT_FALSE(contains(frame.payload, marker));
      all.insert(all.end(), frame.payload.begin(), frame.payload.end());
    }
    EXPECT_FALSE(contains(all, marker));
  }
}

TEST(SecureCarrierTest, PlaintextSessionFrameFromPeerFails) {
  Key key = Key::generate();
  SecureEnds ends(key, key);
  ends.client->send(FrameType::Open, 1, {});
  ends.pair.setTap(
      MemoryCarrierPair::kClient, [&](Frame, const MemoryCarrierPair::Deliver& deliver) {
        deliver({FrameType::Hello, 0, std::vector<uint8_t>(proto::HelloPayload::kSize)});
      });
  ends.start();
  ASSERT_TRUE(ends.runUntil([&] { return ends.serverListener.failed(); }));
  EXPECT_NE(ends.serverListener.failure().find("unexpected HELLO frame"), std::string::npos)
      << ends.serverListener.failure();
  EXPECT_TRUE(ends.serverListener.frames.empty());
}

TEST(SecureCarrierTest, TwoClientsRefuseEachOther) {
  io::Loop loop;
  MemoryCarrierPair pair(loop);
  Key key = Key::generate();
  SecureCarrier one(loop, pair.take(MemoryCarrierPair::kClient), key, Role::Client);
  SecureCarrier two(loop, pair.take(MemoryCarrierPair::kServer), key, Role::Client);
  RecordingListener oneListener;
  RecordingListener twoListener;
  one.setListener(&oneListener);
  two.setListener(&twoListener);
  one.start();
  two.start();
  ASSERT_TRUE(
      ferry::test::runUntil(loop, [&] { return oneListener.failed() && twoListener.failed(); }));
  EXPECT_NE(oneListener.failure().find("claims role 1, expected 2"), std::string::npos)
      << oneListener.failure();
}

TEST(SecureCarrierTest, ServerGivesUpOnASilentPeer) {
  Key key = Key::generate();
  SecureOptions options;
  options.handshakeTimeout = std::chrono::milliseconds(30);
  SecureEnds ends(key, key, options);
  ends.pair.setTap(MemoryCarrierPair::kClient, [](Frame, const MemoryCarrierPair::Deliver&) {});
  ends.start();
  ASSERT_TRUE(ends.runUntil([&] { return ends.serverListener.failed(); }));
  EXPECT_EQ(ends.serverListener.failure(), "the peer did not prove the key within 30 ms");
  EXPECT_EQ(ends.serverListener.failures.front().code, ETIMEDOUT);
  EXPECT_FALSE(ends.clientListener.failed());
}

TEST(SecureCarrierTest, HandshakeTimerStopsOnceThePeerProvedTheKey) {
  Key key = Key::generate();
  SecureOptions options;
  options.handshakeTimeout = std::chrono::milliseconds(30);
  SecureEnds ends(key, key, options);
  ASSERT_TRUE(ends.handshake());
  EXPECT_EQ(ends.loop.timerCount(), 0u);
}

TEST(SecureCarrierTest, QueueBeforeKeysIsBoundedAndSignalsCongestion) {
  Key key = Key::generate();
  SecureOptions options;
  options.pendingBudget = 1000;
  options.pendingLimit = 10000;
  SecureEnds ends(key, key, options);
  std::vector<uint8_t> payload(600, 7);
  ends.server->send(FrameType::Data, 1, payload);
  EXPECT_FALSE(ends.server->congested());
  ends.server->send(FrameType::Data, 1, payload);
  EXPECT_TRUE(ends.server->congested());
  ASSERT_TRUE(ends.handshake());
  EXPECT_FALSE(ends.server->congested());
  EXPECT_EQ(ends.serverListener.writable, 1);
  ASSERT_TRUE(ends.runUntil([&] { return ends.clientListener.frames.size() == 2; }));

  SecureEnds overflow(key, key, options);
  for (int i = 0; i < 20; ++i) {
    overflow.server->send(FrameType::Data, 1, payload);
  }
  // Reported at the end of the tick, never from inside the session's own send().
  EXPECT_FALSE(overflow.serverListener.failed());
  ASSERT_TRUE(overflow.runUntil([&] { return overflow.serverListener.failed(); }));
  EXPECT_NE(overflow.serverListener.failure().find("queued before the peer answered"),
            std::string::npos);
  EXPECT_EQ(overflow.serverListener.failures.size(), 1u);
}

TEST(SecureCarrierTest, CloseNeverSendsQueuedFramesInPlaintext) {
  Key key = Key::generate();
  SecureEnds ends(key, key);
  ends.pair.setTap(MemoryCarrierPair::kServer, [](Frame, const MemoryCarrierPair::Deliver&) {});
  ends.client->send(FrameType::Open, 1, patternBytes(10, 1));
  ends.start();
  ends.client->close(false);
  ends.client->close(false);
  EXPECT_TRUE(ends.pair.closed(MemoryCarrierPair::kClient));
  ends.runUntil([&] { return ends.loop.timerCount() == 0; });
  ASSERT_EQ(ends.pair.carried(MemoryCarrierPair::kClient).size(), 1u);
  EXPECT_EQ(ends.pair.carried(MemoryCarrierPair::kClient)[0].type, FrameType::AuthHello);
  EXPECT_FALSE(ends.clientListener.failed());
}

TEST(SecureCarrierTest, WrapTimesOutBothSides) {
  io::Loop loop;
  MemoryCarrierPair pair(loop);
  Key key = Key::generate();
  mux::CarrierPtr client = wrap(loop, pair.take(MemoryCarrierPair::kClient), key, Role::Client);
  mux::CarrierPtr server = wrap(loop, pair.take(MemoryCarrierPair::kServer), key, Role::Server);
  RecordingListener clientListener;
  RecordingListener serverListener;
  client->setListener(&clientListener);
  server->setListener(&serverListener);
  client->start();
  EXPECT_EQ(loop.timerCount(), 1u);
  server->start();
  EXPECT_EQ(loop.timerCount(), 2u);
  EXPECT_EQ(server->describe(), "memory server (pre-shared key)");
}

TEST(SecureCarrierTest, ClientAwaitingAServerTimesOutOnlyOnceTheServerSpoke) {
  io::Loop loop;
  MemoryCarrierPair pair(loop);
  pair.setClientAwaitsPeer();
  Key key = Key::generate();
  SecureOptions options;
  options.handshakeTimeout = std::chrono::milliseconds(30);
  SecureCarrier client(loop, pair.take(MemoryCarrierPair::kClient), key, Role::Client, options);
  RecordingListener listener;
  client.setListener(&listener);
  client.start();
  EXPECT_FALSE(client.peerPresentAtStart());
  // No server yet: no deadline, however long it takes.
  EXPECT_FALSE(ferry::test::runUntil(
      loop, [&] { return listener.failed(); }, std::chrono::milliseconds(100)));
  // A server says hello, then never proves the key.
  Handshake server(key, Role::Server);
  pair.inject(MemoryCarrierPair::kClient, {FrameType::AuthHello, 0, server.hello()});
  ASSERT_TRUE(ferry::test::runUntil(
      loop, [&] { return listener.failed(); }, std::chrono::seconds(2)));
  EXPECT_EQ(listener.failure(),
            "the server did not complete the key handshake within 30 ms: does it run with the "
            "same --key-file?");
}

TEST(SecureCarrierTest, AnInnerFailureBeforeTheHandshakeKeepsItsCodeAndGainsAHint) {
  io::ignoreSigpipe();
  io::Loop loop;
  auto [peer, mine] = ferry::test::socketPair();
  SecureCarrier client(loop, std::make_unique<stream::StreamCarrier>(loop, std::move(mine), "c"),
                       Key::generate(), Role::Client, SecureOptions{});
  RecordingListener listener;
  client.setListener(&listener);
  client.start();
  std::string garbage = "this is not a frame at all, just text";
  ASSERT_EQ(::write(peer.get(), garbage.data(), garbage.size()),
            static_cast<ssize_t>(garbage.size()));
  ASSERT_TRUE(ferry::test::runUntil(loop, [&] { return listener.failed(); }));
  EXPECT_EQ(listener.failures.front().code, EPROTO);
  EXPECT_EQ(listener.failure().rfind("corrupt input: ", 0), 0u) << listener.failure();
  EXPECT_NE(listener.failure().find("(before the key handshake completed: does the server run "
                                    "with the same --key-file?)"),
            std::string::npos)
      << listener.failure();
  client.close(false);
}

}  // namespace
}  // namespace ferry::carrier::secure::test
