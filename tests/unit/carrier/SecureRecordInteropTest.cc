// RecordCipher (OpenSSL) against libsodium's ChaCha20-Poly1305-IETF, which sealed records before:
// the same key, counter and additional data must give byte-identical records both ways, so a
// peer of either version opens the other's records.
#include <gtest/gtest.h>
#include <sodium.h>

#include <random>
#include <vector>

#include "carrier/secure/Handshake.h"
#include "carrier/secure/Key.h"
#include "carrier/secure/RecordCipher.h"
#include "carrier/secure/Sodium.h"

namespace ferry::carrier::secure {
namespace {

using proto::FrameType;

/// The record format of docs/protocol.md, sealed with libsodium from a plaintext copy.
std::vector<uint8_t> sodiumSeal(const Key& key, Direction direction, uint64_t counter,
                                FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
  std::vector<uint8_t> plain(RecordCipher::kHeaderSize);
  plain[0] = static_cast<uint8_t>(type);
  proto::putU32(plain.data() + 1, stream);
  plain.insert(plain.end(), payload.begin(), payload.end());
  std::array<uint8_t, 12> nonce{};
  proto::putU64(nonce.data(), counter);
  std::array<uint8_t, 2> additional{Handshake::kAuthVersion, static_cast<uint8_t>(direction)};
  std::vector<uint8_t> sealed(plain.size() + RecordCipher::kTagSize);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(sealed.data(), &written, plain.data(), plain.size(),
                                            additional.data(), additional.size(), nullptr,
                                            nonce.data(), key.bytes().data());
  return sealed;
}

std::vector<size_t> payloadSizes() {
  // Around the 64-byte ChaCha20 block (the 5-byte header shifts the payload inside it), the
  // AVX2/AVX-512 batch sizes of OpenSSL's code, and random sizes up to the largest record.
  std::vector<size_t> sizes = {0,   1,    58,   59,    60,    63,     64,
                               65,  123,  128,  255,   256,   257,    511,
                               512, 1024, 4096, 16384, 65536, 262144, RecordCipher::kMaxPayload};
  std::mt19937 random(99);
  std::uniform_int_distribution<size_t> anySize(0, RecordCipher::kMaxPayload);
  for (int i = 0; i < 20; ++i) {
    sizes.push_back(anySize(random));
  }
  return sizes;
}

std::vector<uint8_t> randomBytes(size_t size, std::mt19937& random) {
  std::vector<uint8_t> bytes(size);
  for (uint8_t& byte : bytes) {
    byte = static_cast<uint8_t>(random());
  }
  return bytes;
}

TEST(SecureRecordInteropTest, SealsExactlyLikeLibsodium) {
  ensureSodium();
  Key key = Key::generate();
  std::mt19937 random(7);
  for (Direction direction : {Direction::ClientToServer, Direction::ServerToClient}) {
    RecordCipher cipher(key.bytes(), direction);
    uint64_t counter = 0;
    for (size_t size : payloadSizes()) {
      std::vector<uint8_t> payload = randomBytes(size, random);
      auto stream = static_cast<uint32_t>(random());
      auto sealed = cipher.seal(FrameType::Data, stream, payload);
      ASSERT_TRUE(sealed);
      std::vector<uint8_t> expected =
          sodiumSeal(key, direction, counter++, FrameType::Data, stream, payload);
      ASSERT_EQ(std::vector<uint8_t>(sealed->begin(), sealed->end()), expected) << size;
    }
  }
}

TEST(SecureRecordInteropTest, SealsInPlaceExactlyLikeLibsodium) {
  ensureSodium();
  Key key = Key::generate();
  std::mt19937 random(8);
  RecordCipher cipher(key.bytes(), Direction::ClientToServer);
  uint64_t counter = 0;
  for (size_t size : payloadSizes()) {
    std::vector<uint8_t> payload = randomBytes(size, random);
    auto stream = static_cast<uint32_t>(random());
    std::vector<uint8_t> record(RecordCipher::kOverhead + size, 0xEE);
    std::copy(payload.begin(), payload.end(), record.begin() + RecordCipher::kHeaderSize);
    ASSERT_TRUE(cipher.sealInPlace(FrameType::Data, stream, record));
    ASSERT_EQ(record, sodiumSeal(key, Direction::ClientToServer, counter++, FrameType::Data, stream,
                                 payload))
        << size;
  }
  std::vector<uint8_t> tooShort(RecordCipher::kOverhead - 1);
  EXPECT_FALSE(cipher.sealInPlace(FrameType::Data, 1, tooShort));
  EXPECT_EQ(cipher.counter(), counter);
}

TEST(SecureRecordInteropTest, OpensWhatLibsodiumSealedAndNothingElse) {
  ensureSodium();
  Key key = Key::generate();
  std::mt19937 random(8);
  RecordCipher cipher(key.bytes(), Direction::ServerToClient);
  uint64_t counter = 0;
  for (size_t size : payloadSizes()) {
    std::vector<uint8_t> payload = randomBytes(size, random);
    std::vector<uint8_t> sealed =
        sodiumSeal(key, Direction::ServerToClient, counter, FrameType::Window, 5, payload);
    std::vector<uint8_t> tampered = sealed;
    tampered[random() % tampered.size()] ^= 0x40;
    ASSERT_FALSE(cipher.open(tampered)) << size;
    auto opened = cipher.open(sealed);
    ASSERT_TRUE(opened) << size;
    EXPECT_EQ(opened->type, FrameType::Window);
    EXPECT_EQ(opened->stream, 5u);
    ASSERT_EQ(std::vector<uint8_t>(opened->payload.begin(), opened->payload.end()), payload);
    EXPECT_EQ(cipher.counter(), ++counter);
  }
}

}  // namespace
}  // namespace ferry::carrier::secure
