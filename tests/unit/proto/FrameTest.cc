#include "proto/Frame.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "proto/Crc32c.h"

namespace ferry::proto {
namespace {

constexpr FrameType kAllTypes[] = {
    FrameType::Hello,  FrameType::Open,       FrameType::Data,        FrameType::Fin,
    FrameType::Rst,    FrameType::Window,     FrameType::Ping,        FrameType::Bye,
    FrameType::Rotate, FrameType::SegmentAck, FrameType::AuthHello,   FrameType::AuthProof,
    FrameType::Sealed, FrameType::Listen,     FrameType::ListenResult};

std::vector<uint8_t> randomBytes(std::mt19937& random, size_t size) {
  std::vector<uint8_t> bytes(size);
  for (uint8_t& byte : bytes) {
    byte = static_cast<uint8_t>(random());
  }
  return bytes;
}

std::vector<uint8_t> encodeFrame(FrameHeader header, std::span<const uint8_t> payload) {
  header.length = static_cast<uint32_t>(payload.size());
  header.payloadCrc = crc32c(payload);
  std::vector<uint8_t> bytes(kHeaderSize + payload.size());
  encodeHeader(header, bytes.data());
  std::copy(payload.begin(), payload.end(), bytes.begin() + kHeaderSize);
  return bytes;
}

/// True when `result` is Ok and its frame re-encodes to exactly the consumed bytes.
bool isRealFrame(const DecodeResult& result, std::span<const uint8_t> bytes) {
  if (result.status != DecodeStatus::Ok || result.consumed > bytes.size()) {
    return false;
  }
  std::vector<uint8_t> again = encodeFrame(result.frame.header, result.frame.payload);
  return std::equal(again.begin(), again.end(), bytes.begin(), bytes.begin() + result.consumed) &&
         again.size() == result.consumed;
}

TEST(FrameTest, RoundTripsEveryTypeAndManyPayloadSizes) {
  std::mt19937 random(1);
  for (FrameType type : kAllTypes) {
    for (size_t size : {0u, 1u, 2u, 7u, 8u, 9u, 27u, 28u, 29u, 100u, 1000u, 4095u, 4096u, 5000u}) {
      FrameHeader header;
      header.type = type;
      header.flags = static_cast<uint8_t>(random());
      header.stream = static_cast<uint32_t>(random());
      header.sequence = (uint64_t{random()} << 32) | random();
      std::vector<uint8_t> payload = randomBytes(random, size);
      std::vector<uint8_t> bytes = encodeFrame(header, payload);
      std::vector<uint8_t> trailing = randomBytes(random, 5);
      bytes.insert(bytes.end(), trailing.begin(), trailing.end());

      DecodeResult result = decodeFrame(bytes);
      ASSERT_EQ(result.status, DecodeStatus::Ok)
          << frameTypeName(type) << " " << size << ": " << result.error;
      EXPECT_EQ(result.consumed, kHeaderSize + size);
      EXPECT_EQ(result.frame.header.type, type);
      EXPECT_EQ(result.frame.header.flags, header.flags);
      EXPECT_EQ(result.frame.header.stream, header.stream);
      EXPECT_EQ(result.frame.header.sequence, header.sequence);
      EXPECT_EQ(result.frame.header.length, size);
      EXPECT_EQ(result.frame.payload.data(), bytes.data() + kHeaderSize) << "payload was copied";
      EXPECT_TRUE(std::equal(payload.begin(), payload.end(), result.frame.payload.begin(),
                             result.frame.payload.end()));
    }
  }
}

TEST(FrameTest, EveryTruncationNeedsMore) {
  std::mt19937 random(2);
  for (size_t size : {0u, 1u, 100u, 3000u}) {
    FrameHeader header;
    header.type = FrameType::Data;
    header.stream = 7;
    header.sequence = 42;
    std::vector<uint8_t> bytes = encodeFrame(header, randomBytes(random, size));
    for (size_t prefix = 0; prefix < bytes.size(); ++prefix) {
      DecodeResult result = decodeFrame({bytes.data(), prefix});
      ASSERT_EQ(result.status, DecodeStatus::NeedMore)
          << "payload " << size << ", prefix " << prefix << ": " << result.error;
      EXPECT_EQ(result.consumed, 0u);
    }
    EXPECT_EQ(decodeFrame(bytes).status, DecodeStatus::Ok);
  }
}

TEST(FrameTest, AnySingleFlippedBitIsInvalid) {
  std::mt19937 random(3);
  for (size_t size : {0u, 1u, 64u, 301u}) {
    FrameHeader header;
    header.type = FrameType::Window;
    header.stream = 0x01020304;
    header.sequence = 0x1122334455667788;
    std::vector<uint8_t> bytes = encodeFrame(header, randomBytes(random, size));
    for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
      std::vector<uint8_t> flipped = bytes;
      flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      DecodeResult result = decodeFrame(flipped);
      ASSERT_EQ(result.status, DecodeStatus::Invalid) << "payload " << size << ", bit " << bit;
      EXPECT_FALSE(result.error.empty());
    }
  }
}

TEST(FrameTest, OversizedLengthIsRejectedBeforeThePayloadArrives) {
  FrameHeader header;
  header.type = FrameType::Data;
  header.length = kMaxPayload + 1;
  std::vector<uint8_t> bytes(kHeaderSize);
  encodeHeader(header, bytes.data());
  // As soon as the length field is complete: 12 bytes.
  for (size_t prefix = 12; prefix <= kHeaderSize; ++prefix) {
    DecodeResult result = decodeFrame({bytes.data(), prefix});
    ASSERT_EQ(result.status, DecodeStatus::Invalid) << prefix;
    EXPECT_NE(result.error.find("exceeds"), std::string::npos) << result.error;
  }
  header.length = 0xffffffff;
  encodeHeader(header, bytes.data());
  EXPECT_EQ(decodeFrame(bytes).status, DecodeStatus::Invalid);
  // The maximum itself is allowed and waits for its payload.
  header.length = kMaxPayload;
  encodeHeader(header, bytes.data());
  EXPECT_EQ(decodeFrame(bytes).status, DecodeStatus::NeedMore);
}

TEST(FrameTest, MaximumPayloadDecodes) {
  std::mt19937 random(4);
  FrameHeader header;
  std::vector<uint8_t> bytes = encodeFrame(header, randomBytes(random, kMaxPayload));
  DecodeResult result = decodeFrame(bytes);
  ASSERT_EQ(result.status, DecodeStatus::Ok) << result.error;
  EXPECT_EQ(result.consumed, kHeaderSize + kMaxPayload);
}

TEST(FrameTest, UnknownTypeIsInvalidOnceTheTypeByteArrives) {
  FrameHeader header;
  std::vector<uint8_t> bytes(kHeaderSize);
  for (int type = 0; type < 256; ++type) {
    header.type = static_cast<FrameType>(type);
    encodeHeader(header, bytes.data());
    DecodeResult early = decodeFrame({bytes.data(), 4});
    DecodeResult full = decodeFrame(bytes);
    if (isKnownFrameType(static_cast<uint8_t>(type))) {
      EXPECT_EQ(early.status, DecodeStatus::NeedMore) << type;
      EXPECT_EQ(full.status, DecodeStatus::Ok) << type << ": " << full.error;
      EXPECT_STRNE(frameTypeName(header.type), "UNKNOWN");
    } else {
      EXPECT_EQ(early.status, DecodeStatus::Invalid) << type;
      EXPECT_EQ(full.status, DecodeStatus::Invalid) << type;
      EXPECT_STREQ(frameTypeName(header.type), "UNKNOWN");
    }
  }
}

TEST(FrameTest, SessionFramesAreTheKnownTypesExceptTheCarrierFrames) {
  const std::set<FrameType> carrierFrames = {FrameType::Rotate, FrameType::SegmentAck,
                                             FrameType::AuthHello, FrameType::AuthProof,
                                             FrameType::Sealed};
  for (int type = 0; type < 256; ++type) {
    auto byte = static_cast<uint8_t>(type);
    bool expected = isKnownFrameType(byte) && !carrierFrames.contains(static_cast<FrameType>(byte));
    EXPECT_EQ(isSessionFrameType(byte), expected) << type;
  }
  EXPECT_TRUE(isSessionFrameType(static_cast<uint8_t>(FrameType::Hello)));
  EXPECT_TRUE(isSessionFrameType(static_cast<uint8_t>(FrameType::DatagramOpen)));
  EXPECT_TRUE(isSessionFrameType(static_cast<uint8_t>(FrameType::Blocked)));
}

TEST(FrameTest, ZerosNeverParse) {
  std::vector<uint8_t> zeros(64 * 1024, 0);
  for (size_t size = 0; size <= zeros.size(); size = size < 100 ? size + 1 : size * 2) {
    DecodeResult result = decodeFrame({zeros.data(), size});
    ASSERT_NE(result.status, DecodeStatus::Ok) << size;
    if (size >= 2) {
      ASSERT_EQ(result.status, DecodeStatus::Invalid) << size;
    }
  }
}

TEST(FrameTest, RandomGarbageNeverCrashesOrFakesAFrame) {
  std::mt19937 random(5);
  FrameHeader header;
  header.type = FrameType::Data;
  header.stream = 3;
  std::vector<uint8_t> real = encodeFrame(header, randomBytes(random, 40));
  int ok = 0;
  for (int i = 0; i < 200000; ++i) {
    std::vector<uint8_t> bytes;
    switch (i % 4) {
      case 0:  // pure noise
        bytes = randomBytes(random, random() % 80);
        break;
      case 1:  // plausible start: right magic and a known type
        bytes = randomBytes(random, kHeaderSize + random() % 64);
        bytes[0] = real[0];
        bytes[1] = real[1];
        bytes[3] = static_cast<uint8_t>(kAllTypes[random() % std::size(kAllTypes)]);
        bytes[8] = static_cast<uint8_t>(random() % 64);
        bytes[9] = bytes[10] = bytes[11] = 0;
        break;
      case 2: {  // a valid header over a random payload
        FrameHeader randomHeader;
        randomHeader.length = static_cast<uint32_t>(random() % 64);
        randomHeader.payloadCrc = static_cast<uint32_t>(random());
        bytes = randomBytes(random, kHeaderSize + random() % 80);
        encodeHeader(randomHeader, bytes.data());
        break;
      }
      default: {  // a real frame with a few bytes changed, cut anywhere
        bytes = real;
        for (uint32_t edits = 1 + random() % 3; edits > 0; --edits) {
          bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
        }
        bytes.resize(random() % (bytes.size() + 1));
        break;
      }
    }
    DecodeResult result = decodeFrame(bytes);
    if (result.status == DecodeStatus::Ok) {
      ASSERT_TRUE(isRealFrame(result, bytes)) << "iteration " << i;
      ok++;
    } else if (result.status == DecodeStatus::Invalid) {
      ASSERT_FALSE(result.error.empty());
    }
  }
  // Only edits that happened to restore the original bytes may decode.
  EXPECT_LT(ok, 1000);
}

TEST(FrameTest, HelloRoundTrip) {
  HelloPayload hello;
  hello.role = 2;
  hello.heartbeatMs = 15000;
  uint8_t bytes[HelloPayload::kSize];
  encodeHello(hello, bytes);
  HelloPayload decoded;
  decoded.version = 0;
  ASSERT_TRUE(decodeHello(bytes, decoded));
  EXPECT_EQ(decoded.version, kProtocolVersion);
  EXPECT_EQ(decoded.role, 2);
  EXPECT_EQ(decoded.heartbeatMs, 15000u);
  EXPECT_EQ(bytes[0], kProtocolVersion & 0xff);  // little-endian on the wire
  EXPECT_EQ(bytes[4], 15000 & 0xff);
  for (size_t size = 0; size < HelloPayload::kSize; ++size) {
    EXPECT_FALSE(decodeHello({bytes, size}, decoded)) << size;
  }
}

TEST(FrameTest, IntegersAreLittleEndian) {
  uint8_t bytes[8];
  putU32(bytes, 0x01020304);
  EXPECT_EQ(bytes[0], 0x04);
  EXPECT_EQ(bytes[3], 0x01);
  EXPECT_EQ(getU32(bytes), 0x01020304u);
  putU64(bytes, 0x0102030405060708);
  EXPECT_EQ(bytes[0], 0x08);
  EXPECT_EQ(bytes[7], 0x01);
  EXPECT_EQ(getU64(bytes), 0x0102030405060708u);
  FrameHeader header;
  std::vector<uint8_t> frame = encodeFrame(header, {});
  EXPECT_EQ(frame[0], 'F');
  EXPECT_EQ(frame[1], 'y');
}

}  // namespace
}  // namespace ferry::proto
