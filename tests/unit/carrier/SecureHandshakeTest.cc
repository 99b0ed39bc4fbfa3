// Handshake and RecordCipher as pure logic: no loop, no carrier.
#include <gtest/gtest.h>

#include <vector>

#include "carrier/secure/Handshake.h"
#include "carrier/secure/RecordCipher.h"

namespace ferry::carrier::secure {
namespace {

using proto::FrameType;

std::vector<uint8_t> toVector(std::span<const uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

TEST(SecureHandshakeTest, SameKeyAgreesOnCrossedDirectionKeys) {
  Key key = Key::generate();
  Handshake client(key, Role::Client);
  Handshake server(key, Role::Server);
  auto clientProof = client.onPeerHello(server.hello());
  auto serverProof = server.onPeerHello(client.hello());
  ASSERT_TRUE(clientProof && serverProof);
  EXPECT_NE(*clientProof, *serverProof);  // a proof of one role is never one of the other
  EXPECT_EQ(toVector(client.sendKey()), toVector(server.receiveKey()));
  EXPECT_EQ(toVector(client.receiveKey()), toVector(server.sendKey()));
  EXPECT_NE(toVector(client.sendKey()), toVector(client.receiveKey()));
  EXPECT_TRUE(client.onPeerProof(*serverProof));
  EXPECT_TRUE(server.onPeerProof(*clientProof));
  EXPECT_EQ(client.state(), Handshake::State::Done);
  EXPECT_EQ(server.state(), Handshake::State::Done);
}

TEST(SecureHandshakeTest, FreshNoncesGiveFreshKeys) {
  Key key = Key::generate();
  Handshake firstClient(key, Role::Client);
  Handshake secondClient(key, Role::Client);
  EXPECT_NE(firstClient.hello(), secondClient.hello());
  Handshake server(key, Role::Server);
  ASSERT_TRUE(firstClient.onPeerHello(server.hello()));
  ASSERT_TRUE(secondClient.onPeerHello(server.hello()));
  EXPECT_NE(toVector(firstClient.sendKey()), toVector(secondClient.sendKey()));
}

TEST(SecureHandshakeTest, WrongKeyFailsTheProof) {
  Handshake client(Key::generate(), Role::Client);
  Handshake server(Key::generate(), Role::Server);
  auto clientProof = client.onPeerHello(server.hello());
  ASSERT_TRUE(server.onPeerHello(client.hello()));
  auto verdict = server.onPeerProof(*clientProof);
  ASSERT_FALSE(verdict);
  EXPECT_EQ(verdict.error().message, "peer failed key proof: wrong key or replayed session");
  EXPECT_EQ(server.state(), Handshake::State::Failed);
}

TEST(SecureHandshakeTest, RecordedProofFailsAgainstANewNonce) {
  Key key = Key::generate();
  Handshake client(key, Role::Client);
  Handshake oldServer(key, Role::Server);
  auto recordedProof = client.onPeerHello(oldServer.hello());
  ASSERT_TRUE(recordedProof);
  Handshake newServer(key, Role::Server);
  ASSERT_TRUE(newServer.onPeerHello(client.hello()));
  EXPECT_FALSE(newServer.onPeerProof(*recordedProof));
}

TEST(SecureHandshakeTest, RejectsMalformedAndOutOfOrderFrames) {
  Key key = Key::generate();
  Handshake server(key, Role::Server);
  std::vector<uint8_t> proof(Handshake::kProofSize, 1);
  auto early = server.onPeerProof(proof);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().message, "unexpected AUTH_PROOF before the peer's AUTH_HELLO");

  Handshake client(key, Role::Client);
  std::vector<uint8_t> hello = client.hello();
  std::vector<uint8_t> shortHello(hello.begin(), hello.end() - 1);
  EXPECT_FALSE(Handshake(key, Role::Server).onPeerHello(shortHello));
  std::vector<uint8_t> otherVersion = hello;
  otherVersion[0] = 2;
  EXPECT_FALSE(Handshake(key, Role::Server).onPeerHello(otherVersion));
  // Our own hello reflected back: the role gives it away; with the role changed, the nonce does.
  Handshake self(key, Role::Client);
  EXPECT_FALSE(self.onPeerHello(self.hello()));
  Handshake self2(key, Role::Client);
  std::vector<uint8_t> reflected = self2.hello();
  reflected[1] = static_cast<uint8_t>(Role::Server);
  auto verdict = self2.onPeerHello(reflected);
  ASSERT_FALSE(verdict);
  EXPECT_EQ(verdict.error().message, "peer AUTH_HELLO repeats this side's nonce");

  Handshake twice(key, Role::Server);
  ASSERT_TRUE(twice.onPeerHello(hello));
  EXPECT_FALSE(twice.onPeerHello(hello));
}

TEST(SecureRecordCipherTest, SealsAndOpensInOrder) {
  Key key = Key::generate();
  RecordCipher sender(key.bytes(), Direction::ClientToServer);
  RecordCipher receiver(key.bytes(), Direction::ClientToServer);
  for (uint32_t i = 0; i < 50; ++i) {
    std::vector<uint8_t> payload(i * 13, static_cast<uint8_t>(i));
    auto sealed = sender.seal(FrameType::Data, i, payload);
    ASSERT_TRUE(sealed);
    EXPECT_EQ(sealed->size(), payload.size() + RecordCipher::kOverhead);
    auto opened = receiver.open(*sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->type, FrameType::Data);
    EXPECT_EQ(opened->stream, i);
    EXPECT_EQ(toVector(opened->payload), payload);
  }
  EXPECT_EQ(sender.counter(), 50u);
  EXPECT_EQ(receiver.counter(), 50u);
}

TEST(SecureRecordCipherTest, DirectionIsBound) {
  Key key = Key::generate();
  RecordCipher sender(key.bytes(), Direction::ClientToServer);
  RecordCipher wrongWay(key.bytes(), Direction::ServerToClient);
  auto sealed = sender.seal(FrameType::Ping, 0, std::vector<uint8_t>(8, 1));
  ASSERT_TRUE(sealed);
  EXPECT_FALSE(wrongWay.open(*sealed));
  EXPECT_EQ(wrongWay.counter(), 0u);
}

TEST(SecureRecordCipherTest, RefusesOversizedPayloadsAndShortRecords) {
  Key key = Key::generate();
  RecordCipher cipher(key.bytes(), Direction::ClientToServer);
  std::vector<uint8_t> big(RecordCipher::kMaxPayload + 1);
  EXPECT_FALSE(cipher.seal(FrameType::Data, 1, big));
  big.pop_back();
  auto sealed = cipher.seal(FrameType::Data, 1, big);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), proto::kMaxPayload);
  EXPECT_FALSE(cipher.open(std::vector<uint8_t>(RecordCipher::kOverhead - 1)));
}

}  // namespace
}  // namespace ferry::carrier::secure
