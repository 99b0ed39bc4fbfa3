#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include "carrier/stream/StreamCarrier.h"
#include "support/RecordingListener.h"
#include "support/SocketPair.h"

namespace ferry::test {

/// Two StreamCarriers `a` and `b` joined by a socketpair (or two pipes), each reporting to its
/// own RecordingListener. Not started: a test may queue frames first.
struct StreamCarrierPair {
  explicit StreamCarrierPair(io::Loop& loop) {
    auto [left, right] = socketPair();
    a = std::make_unique<carrier::stream::StreamCarrier>(loop, std::move(left), "a");
    b = std::make_unique<carrier::stream::StreamCarrier>(loop, std::move(right), "b");
    listen();
  }
  /// Over one pipe per direction instead, like stdio carriers.
  static std::unique_ptr<StreamCarrierPair> overPipes(io::Loop& loop) {
    int toB[2];
    int toA[2];
    EXPECT_EQ(::pipe2(toB, O_NONBLOCK | O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(toA, O_NONBLOCK | O_CLOEXEC), 0);
    std::unique_ptr<StreamCarrierPair> pair(new StreamCarrierPair());
    pair->a =
        std::make_unique<carrier::stream::StreamCarrier>(loop, io::Fd(toA[0]), io::Fd(toB[1]), "a");
    pair->b =
        std::make_unique<carrier::stream::StreamCarrier>(loop, io::Fd(toB[0]), io::Fd(toA[1]), "b");
    pair->listen();
    return pair;
  }

  void start() {
    a->start();
    b->start();
  }

  std::unique_ptr<carrier::stream::StreamCarrier> a;
  std::unique_ptr<carrier::stream::StreamCarrier> b;
  RecordingListener seenByA;
  RecordingListener seenByB;

 private:
  StreamCarrierPair() = default;
  void listen() {
    a->setListener(&seenByA);
    b->setListener(&seenByB);
  }
};

/// One started StreamCarrier on a socketpair, its RecordingListener, and the raw other end, where
/// a test plays the peer: writes what it wants the carrier to read, reads what it sent.
struct StreamCarrierWithRawPeer {
  StreamCarrierWithRawPeer(io::Loop& loop, const char* name) {
    auto [raw, mine] = socketPair();
    peer = std::move(raw);
    carrier = std::make_unique<carrier::stream::StreamCarrier>(loop, std::move(mine), name);
    carrier->setListener(&seen);
    carrier->start();
  }

  io::Fd peer;
  std::unique_ptr<carrier::stream::StreamCarrier> carrier;
  RecordingListener seen;
};

}  // namespace ferry::test
