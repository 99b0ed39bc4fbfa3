#include "proto/FrameWriter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::proto {
namespace {

std::span<const uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

/// Frames `count` Data frames; returns each encoded frame separately.
std::vector<std::vector<uint8_t>> writeFrames(int count) {
  FrameWriter writer;
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < count; ++i) {
    std::string payload(static_cast<size_t>(i * 10), static_cast<char>('a' + i));
    writer.append(FrameType::Data, 5, bytesOf(payload));
    io::Buffer& batch = writer.batch();
    frames.emplace_back(batch.data(), batch.data() + batch.readable());
    batch.consume(batch.readable());
  }
  return frames;
}

TEST(FrameWriterTest, NumbersFramesFromZero) {
  FrameWriter writer;
  EXPECT_EQ(writer.nextSequence(), 0u);
  for (int i = 0; i < 5; ++i) {
    writer.append(FrameType::Ping, 0, bytesOf("12345678"));
  }
  writer.append(FrameType::Fin, 9, {});
  EXPECT_EQ(writer.nextSequence(), 6u);
  EXPECT_EQ(writer.batch().readable(), 5 * (kHeaderSize + 8) + kHeaderSize);

  FrameParser parser;
  std::span<const uint8_t> rest = writer.batch().view();
  for (uint64_t expected = 0; expected < 6; ++expected) {
    DecodeResult result = parser.next(rest);
    ASSERT_EQ(result.status, DecodeStatus::Ok) << result.error;
    EXPECT_EQ(result.frame.header.sequence, expected);
    rest = rest.subspan(result.consumed);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(parser.expectedSequence(), 6u);
  EXPECT_EQ(parser.next(rest).status, DecodeStatus::NeedMore);
}

TEST(FrameWriterTest, ParserWaitsForPartialFrames) {
  std::vector<std::vector<uint8_t>> frames = writeFrames(3);
  std::vector<uint8_t> stream;
  for (const auto& frame : frames) {
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  FrameParser parser;
  size_t start = 0;
  int decoded = 0;
  // Bytes arrive one at a time.
  for (size_t end = 0; end <= stream.size(); ++end) {
    DecodeResult result = parser.next({stream.data() + start, end - start});
    ASSERT_NE(result.status, DecodeStatus::Invalid) << result.error;
    if (result.status == DecodeStatus::Ok) {
      EXPECT_EQ(result.frame.header.sequence, static_cast<uint64_t>(decoded));
      EXPECT_EQ(result.frame.payload.size(), static_cast<size_t>(decoded * 10));
      start += result.consumed;
      decoded++;
    }
  }
  EXPECT_EQ(decoded, 3);
  EXPECT_EQ(start, stream.size());
}

TEST(FrameWriterTest, SkippedSequenceIsInvalid) {
  std::vector<std::vector<uint8_t>> frames = writeFrames(3);
  FrameParser parser;
  ASSERT_EQ(parser.next(frames[0]).status, DecodeStatus::Ok);
  DecodeResult skipped = parser.next(frames[2]);
  EXPECT_EQ(skipped.status, DecodeStatus::Invalid);
  EXPECT_NE(skipped.error.find("sequence 2"), std::string::npos) << skipped.error;
  EXPECT_EQ(parser.expectedSequence(), 1u);
  EXPECT_EQ(parser.next(frames[1]).status, DecodeStatus::Ok);
}

TEST(FrameWriterTest, RepeatedSequenceIsInvalid) {
  std::vector<std::vector<uint8_t>> frames = writeFrames(2);
  FrameParser parser;
  ASSERT_EQ(parser.next(frames[0]).status, DecodeStatus::Ok);
  EXPECT_EQ(parser.next(frames[0]).status, DecodeStatus::Invalid);
  EXPECT_EQ(parser.expectedSequence(), 1u);
}

TEST(FrameWriterTest, FirstFrameMustBeSequenceZero) {
  std::vector<std::vector<uint8_t>> frames = writeFrames(2);
  FrameParser parser;
  EXPECT_EQ(parser.next(frames[1]).status, DecodeStatus::Invalid);
  EXPECT_EQ(parser.expectedSequence(), 0u);
}

TEST(FrameWriterTest, HelloThroughWriterAndParser) {
  HelloPayload hello;
  hello.role = 1;
  hello.heartbeatMs = 2500;
  uint8_t payload[HelloPayload::kSize];
  encodeHello(hello, payload);
  FrameWriter writer;
  writer.append(FrameType::Hello, 0, payload);
  FrameParser parser;
  DecodeResult result = parser.next(writer.batch().view());
  ASSERT_EQ(result.status, DecodeStatus::Ok) << result.error;
  EXPECT_EQ(result.frame.header.type, FrameType::Hello);
  EXPECT_EQ(result.frame.header.stream, 0u);
  HelloPayload decoded;
  ASSERT_TRUE(decodeHello(result.frame.payload, decoded));
  EXPECT_EQ(decoded.version, kProtocolVersion);
  EXPECT_EQ(decoded.role, 1);
  EXPECT_EQ(decoded.heartbeatMs, 2500u);
}

TEST(FrameWriterTest, LargeBatchGrowsTheBuffer) {
  FrameWriter writer;
  std::vector<uint8_t> payload(100000, 0x5a);
  for (int i = 0; i < 20; ++i) {
    writer.append(FrameType::Data, 1, payload);
  }
  FrameParser parser;
  std::span<const uint8_t> rest = writer.batch().view();
  int count = 0;
  while (!rest.empty()) {
    DecodeResult result = parser.next(rest);
    ASSERT_EQ(result.status, DecodeStatus::Ok) << result.error;
    rest = rest.subspan(result.consumed);
    count++;
  }
  EXPECT_EQ(count, 20);
}

TEST(FrameWriterTest, ReserveAndCommitEncodeExactlyLikeAppend) {
  FrameWriter appended;
  FrameWriter reserved;
  appended.setSequenceMask(0x1234);
  reserved.setSequenceMask(0x1234);
  for (size_t size : {size_t{1}, size_t{100}, size_t{70000}, size_t{5}}) {
    std::string payload(size, static_cast<char>('a' + size % 26));
    appended.append(FrameType::Data, 7, bytesOf(payload));
    appended.append(FrameType::Window, 7, bytesOf("wind"));
    // More room than the payload needs (a socket read that came short), then a cancelled one
    // (a read that found nothing): neither may leave a byte or use a sequence number.
    std::span<uint8_t> room = reserved.reserve(FrameType::Data, 7, size + 4096);
    ASSERT_EQ(room.size(), size + 4096);
    std::memcpy(room.data(), payload.data(), size);
    reserved.commit(size);
    room = reserved.reserve(FrameType::Data, 9, 65536);
    std::memset(room.data(), 0xEE, room.size());
    reserved.commit(0);
    reserved.append(FrameType::Window, 7, bytesOf("wind"));
  }
  EXPECT_EQ(reserved.nextSequence(), appended.nextSequence());
  std::span<const uint8_t> want = appended.batch().view();
  std::span<const uint8_t> got = reserved.batch().view();
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin()));
}

TEST(FrameWriterTest, CancelledReservationLeavesNothing) {
  FrameWriter writer;
  std::span<uint8_t> room = writer.reserve(FrameType::Data, 3, 1000);
  std::memset(room.data(), 1, room.size());
  writer.commit(0);
  EXPECT_TRUE(writer.batch().empty());
  EXPECT_EQ(writer.nextSequence(), 0u);
}

// Committing more than was reserved is our bug, not a peer's: FERRY_BUG, not a corrupt frame.
TEST(FrameWriterDeathTest, CommitBeyondTheReservationAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  FrameWriter writer;
  writer.reserve(FrameType::Data, 1, 100);
  EXPECT_DEATH(writer.commit(101),
               "bug at src/proto/FrameWriter.cc:[0-9]+: .*commit of 101 bytes into a reserved "
               "room of 100");
  writer.commit(100);
  EXPECT_DEATH(writer.commit(1), "commit of 1 bytes into a reserved room of 0");
}

}  // namespace
}  // namespace ferry::proto
