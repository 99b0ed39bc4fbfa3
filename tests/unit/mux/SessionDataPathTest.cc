// Data from a scripted peer to the destination socket: direct writes and credit tuning.
#include <algorithm>
#include <string>
#include <vector>

#include "ScriptedPeer.h"
#include "support/ManualClock.h"

namespace ferry::test {
namespace {

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
  // Each Blocked also tells the carrier, so that a polling one looks for the Window soon.
  EXPECT_EQ(scripted.pair.creditAwaitedCalls(MemoryCarrierPair::kClient), 1);
  // New credit, used up again by a full read: a second Blocked.
  uint8_t increment[4];
  proto::putU32(increment, 4096);
  scripted.peer->send(proto::FrameType::Window, 1, increment);
  ASSERT_TRUE(runUntil(scripted.loop, [&] {
    dest.pump();
    return sentData() == kInitial + 4096 && scripted.sink.count(proto::FrameType::Blocked) == 2;
  }));
  EXPECT_EQ(scripted.pair.creditAwaitedCalls(MemoryCarrierPair::kClient), 2);
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

}  // namespace
}  // namespace ferry::test
