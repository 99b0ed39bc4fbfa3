// What a stranger who can read and write the share (but has no key) can do to a SecureCarrier:
// inject, alter, drop, repeat, reorder or replay frames. Each must end the carrier with nothing
// of the forged frame delivered.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "SecureTestUtil.h"
#include "carrier/secure/RecordCipher.h"

namespace ferry::carrier::secure::test {
namespace {

using proto::FrameType;

constexpr size_t kRecords = 8;

std::vector<uint8_t> recordPayload(size_t index) {
  return patternBytes(100 + index, index);
}

/// Handshakes, then sends kRecords DATA frames client -> server through `tap` (which sees the
/// client's frames, sealed records numbered from 0), and runs until the server failed or
/// received them all.
std::unique_ptr<SecureEnds> sendThrough(MemoryCarrierPair::Tap tap) {
  Key key = Key::generate();
  auto ends = std::make_unique<SecureEnds>(key, key);
  ends->pair.setTap(MemoryCarrierPair::kClient, std::move(tap));
  EXPECT_TRUE(ends->handshake());
  for (size_t i = 0; i < kRecords; ++i) {
    ends->client->send(FrameType::Data, 5, recordPayload(i));
  }
  ends->runUntil([&] {
    return ends->serverListener.failed() || ends->serverListener.frames.size() == kRecords;
  });
  return ends;
}

/// A tap that passes everything but gives sealed records to `onRecord(index, frame, deliver)`.
MemoryCarrierPair::Tap recordTap(
    std::function<void(size_t, Frame, const MemoryCarrierPair::Deliver&)> onRecord) {
  auto seen = std::make_shared<size_t>(0);
  return [seen, onRecord](Frame frame, const MemoryCarrierPair::Deliver& deliver) {
    if (frame.type != FrameType::Sealed) {
      deliver(std::move(frame));
      return;
    }
    onRecord((*seen)++, std::move(frame), deliver);
  };
}

/// The server failed at record `failedAt` and delivered exactly the records before it.
void expectFailedAt(const SecureEnds& ends, size_t failedAt) {
  ASSERT_TRUE(ends.serverListener.failed());
  EXPECT_EQ(ends.serverListener.failure().rfind(
                "record " + std::to_string(failedAt) + " failed authentication", 0),
            0u)
      << ends.serverListener.failure();
  EXPECT_EQ(ends.serverListener.failures.front().code, EPROTO);
  EXPECT_EQ(ends.serverListener.failures.size(), 1u);
  ASSERT_EQ(ends.serverListener.frames.size(), failedAt);
  for (size_t i = 0; i < failedAt; ++i) {
    EXPECT_EQ(ends.serverListener.frames[i].payload, recordPayload(i));
  }
}

TEST(SecureAttackTest, UntouchedRecordsAllArrive) {
  auto ends =
      sendThrough(recordTap([](size_t, Frame frame, const MemoryCarrierPair::Deliver& deliver) {
        deliver(std::move(frame));
      }));
  EXPECT_FALSE(ends->serverListener.failed()) << ends->serverListener.failure();
  EXPECT_EQ(ends->serverListener.frames.size(), kRecords);
}

TEST(SecureAttackTest, FlippedBitFailsAuthentication) {
  // Positions in record 3 (5 + 103 + 16 bytes): type, stream id, payload, tag start and end.
  for (size_t position : {0, 3, 50, 108, 123}) {
    auto ends = sendThrough(
        recordTap([position](size_t index, Frame frame, const MemoryCarrierPair::Deliver& deliver) {
          if (index == 3) {
            frame.payload.at(position) ^= 0x10;
          }
          deliver(std::move(frame));
        }));
    SCOPED_TRACE(position);
    expectFailedAt(*ends, 3);
  }
}

TEST(SecureAttackTest, DroppedRecordIsDetected) {
  auto ends = sendThrough(
      recordTap([](size_t index, Frame frame, const MemoryCarrierPair::Deliver& deliver) {
        if (index != 2) {
          deliver(std::move(frame));
        }
      }));
  expectFailedAt(*ends, 2);
}

TEST(SecureAttackTest, ReplayedRecordIsDetected) {
  auto ends = sendThrough(
      recordTap([](size_t index, Frame frame, const MemoryCarrierPair::Deliver& deliver) {
        if (index == 2) {
          deliver(frame);
        }
        deliver(std::move(frame));
      }));
  expectFailedAt(*ends, 3);
}

TEST(SecureAttackTest, SwappedRecordsAreDetected) {
  auto held = std::make_shared<Frame>();
  auto ends = sendThrough(
      recordTap([held](size_t index, Frame frame, const MemoryCarrierPair::Deliver& deliver) {
        if (index == 2) {
          *held = std::move(frame);
          return;
        }
        deliver(std::move(frame));
        if (index == 3) {
          deliver(*held);
        }
      }));
  expectFailedAt(*ends, 2);
}

TEST(SecureAttackTest, TruncatedRecordIsDetected) {
  for (size_t keep : {0, 3, 20, 120}) {
    auto ends = sendThrough(
        recordTap([keep](size_t index, Frame frame, const MemoryCarrierPair::Deliver& deliver) {
          if (index == 4) {
            frame.payload.resize(std::min(keep, frame.payload.size() - 1));
          }
          deliver(std::move(frame));
        }));
    SCOPED_TRACE(keep);
    expectFailedAt(*ends, 4);
  }
}

TEST(SecureAttackTest, ForgedRecordIsRejected) {
  // A stranger seals an OPEN with a key of its own and slips it in after record 1.
  Key strangerKey = Key::generate();
  auto forger = std::make_shared<RecordCipher>(strangerKey.bytes(), Direction::ClientToServer);
  auto ends = sendThrough(
      recordTap([forger](size_t index, Frame frame, const MemoryCarrierPair::Deliver& deliver) {
        deliver(std::move(frame));
        if (index == 1) {
          Frame forged{FrameType::Sealed, 0, {}};
          std::vector<uint8_t> target = {'e', 'v', 'i', 'l', ':', '2', '2'};
          auto sealed = forger->seal(FrameType::Open, 99, target);
          forged.payload.assign(sealed->begin(), sealed->end());
          deliver(std::move(forged));
        }
      }));
  expectFailedAt(*ends, 2);
  for (const Frame& frame : ends->serverListener.frames) {
    EXPECT_NE(frame.type, FrameType::Open);
  }
}

TEST(SecureAttackTest, RecordFromAnotherSessionWithTheSameKeyIsRejected) {
  Key key = Key::generate();
  SecureEnds first(key, key);
  ASSERT_TRUE(first.handshake());
  first.client->send(FrameType::Open, 7, std::vector<uint8_t>{'x'});
  ASSERT_TRUE(first.runUntil([&] { return first.serverListener.frames.size() == 1; }));
  Frame oldRecord = first.pair.carried(MemoryCarrierPair::kClient).back();
  ASSERT_EQ(oldRecord.type, FrameType::Sealed);

  SecureEnds second(key, key);
  ASSERT_TRUE(second.handshake());
  second.pair.inject(MemoryCarrierPair::kServer, oldRecord);
  ASSERT_TRUE(second.runUntil([&] { return second.serverListener.failed(); }));
  EXPECT_EQ(second.serverListener.failure().rfind("record 0 failed authentication", 0), 0u);
  EXPECT_TRUE(second.serverListener.frames.empty());
}

/// Runs a session whose client -> server frames pass through `tap`, with frames queued on the
/// client before the start, until the server fails.
std::unique_ptr<SecureEnds> handshakeThrough(MemoryCarrierPair::Tap tap) {
  Key key = Key::generate();
  auto ends = std::make_unique<SecureEnds>(key, key);
  ends->pair.setTap(MemoryCarrierPair::kClient, std::move(tap));
  ends->client->send(FrameType::Open, 1, std::vector<uint8_t>{'a'});
  ends->client->send(FrameType::Data, 1, recordPayload(0));
  ends->start();
  EXPECT_TRUE(ends->runUntil([&] { return ends->serverListener.failed(); }));
  EXPECT_TRUE(ends->serverListener.frames.empty());
  EXPECT_FALSE(ends->server->authenticated());
  return ends;
}

Frame strangerHello() {
  std::vector<uint8_t> payload(Handshake::kHelloSize, 0);
  payload[0] = Handshake::kAuthVersion;
  payload[1] = static_cast<uint8_t>(Role::Client);
  std::vector<uint8_t> nonce = patternBytes(Handshake::kNonceSize, 42);
  std::copy(nonce.begin(), nonce.end(), payload.begin() + 4);
  return {FrameType::AuthHello, 0, payload};
}

TEST(SecureAttackTest, StrangerHelloAfterThePeersIsRejected) {
  auto ends = handshakeThrough([](Frame frame, const MemoryCarrierPair::Deliver& deliver) {
    bool hello = frame.type == FrameType::AuthHello;
    deliver(std::move(frame));
    if (hello) {
      deliver(strangerHello());
    }
  });
  EXPECT_EQ(ends->serverListener.failure(), "unexpected AUTH_HELLO: the peer already sent one");
}

TEST(SecureAttackTest, StrangerHelloBeforeThePeersIsRejected) {
  auto ends = handshakeThrough([](Frame frame, const MemoryCarrierPair::Deliver& deliver) {
    if (frame.type == FrameType::AuthHello) {
      deliver(strangerHello());
    }
    deliver(std::move(frame));
  });
  EXPECT_EQ(ends->serverListener.failure(), "unexpected AUTH_HELLO: the peer already sent one");
}

TEST(SecureAttackTest, StrangerWithoutKeyCannotProve) {
  // The stranger replaces the client's proof with one of its own making.
  auto ends = handshakeThrough([](Frame frame, const MemoryCarrierPair::Deliver& deliver) {
    if (frame.type == FrameType::AuthProof) {
      frame.payload = patternBytes(Handshake::kProofSize, 5);
    }
    deliver(std::move(frame));
  });
  EXPECT_EQ(ends->serverListener.failure(), "peer failed key proof: wrong key or replayed session");
}

TEST(SecureAttackTest, StrangerProofBeforeThePeersIsRejected) {
  auto ends = handshakeThrough([](Frame frame, const MemoryCarrierPair::Deliver& deliver) {
    if (frame.type == FrameType::AuthProof) {
      deliver({FrameType::AuthProof, 0, patternBytes(Handshake::kProofSize, 6)});
    }
    deliver(std::move(frame));
  });
  EXPECT_EQ(ends->serverListener.failure(), "peer failed key proof: wrong key or replayed session");
}

TEST(SecureAttackTest, SealedRecordBeforeTheProofIsRejected) {
  auto ends = handshakeThrough([](Frame frame, const MemoryCarrierPair::Deliver& deliver) {
    bool hello = frame.type == FrameType::AuthHello;
    deliver(std::move(frame));
    if (hello) {
      deliver({FrameType::Sealed, 0, patternBytes(60, 1)});
    }
  });
  EXPECT_EQ(ends->serverListener.failure(), "SEALED record before the peer proved the key");
}

TEST(SecureAttackTest, FrameOnANonZeroStreamIsRejected) {
  auto ends = handshakeThrough([](Frame frame, const MemoryCarrierPair::Deliver& deliver) {
    frame.stream = 3;
    deliver(std::move(frame));
  });
  EXPECT_NE(ends->serverListener.failure().find("on stream 3"), std::string::npos);
}

TEST(SecureAttackTest, ReplayedClientSessionFailsAgainstAFreshServer) {
  // Record everything a real client sent in a complete session...
  Key key = Key::generate();
  SecureEnds old(key, key);
  old.client->send(FrameType::Hello, 0, patternBytes(proto::HelloPayload::kSize, 1));
  old.client->send(FrameType::Open, 1, std::vector<uint8_t>{'d', 'b', ':', '5'});
  ASSERT_TRUE(old.handshake());
  ASSERT_TRUE(old.runUntil([&] { return old.serverListener.frames.size() == 2; }));
  std::vector<Frame> recorded = old.pair.carried(MemoryCarrierPair::kClient);
  ASSERT_EQ(recorded.size(), 4u);

  // ...and play it, frame for frame, to a new server session holding the same key.
  io::Loop loop;
  MemoryCarrierPair pair(loop);
  mux::CarrierPtr replayer = pair.take(MemoryCarrierPair::kClient);
  RecordingListener replayerListener;
  replayer->setListener(&replayerListener);
  replayer->start();
  SecureCarrier server(loop, pair.take(MemoryCarrierPair::kServer), key, Role::Server);
  RecordingListener serverListener;
  server.setListener(&serverListener);
  server.start();
  for (const Frame& frame : recorded) {
    replayer->send(frame.type, frame.stream, frame.payload);
  }
  ASSERT_TRUE(ferry::test::runUntil(loop, [&] { return serverListener.failed(); }));
  EXPECT_EQ(serverListener.failure(), "peer failed key proof: wrong key or replayed session");
  EXPECT_TRUE(serverListener.frames.empty());
  EXPECT_FALSE(server.authenticated());
  // The server's fresh nonce differs from the one the recorded proof answered.
  ASSERT_FALSE(replayerListener.frames.empty());
  EXPECT_NE(replayerListener.frames[0].payload,
            old.pair.carried(MemoryCarrierPair::kServer)[0].payload);
}

}  // namespace
}  // namespace ferry::carrier::secure::test
