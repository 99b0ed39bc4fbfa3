// The datagram frames (12-14): they decode as frames with their payload boundaries intact, and
// the DatagramClose reason codec.
#include "proto/Datagram.h"

#include <gtest/gtest.h>

#include <vector>

#include "proto/Crc32c.h"
#include "proto/Frame.h"

namespace ferry::proto {
namespace {

std::vector<uint8_t> frameBytes(FrameType type, uint32_t stream, std::span<const uint8_t> payload,
                                uint64_t sequence) {
  FrameHeader header;
  header.type = type;
  header.stream = stream;
  header.length = static_cast<uint32_t>(payload.size());
  header.sequence = sequence;
  header.payloadCrc = crc32c(payload);
  std::vector<uint8_t> bytes(kHeaderSize);
  encodeHeader(header, bytes.data());
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

TEST(DatagramFrames, TypesTwelveToFifteenAreKnownAndEighteenIsNot) {
  EXPECT_TRUE(isKnownFrameType(12));
  EXPECT_TRUE(isKnownFrameType(13));
  EXPECT_TRUE(isKnownFrameType(14));
  EXPECT_TRUE(isKnownFrameType(15));  // Blocked (version 4)
  EXPECT_FALSE(isKnownFrameType(18));
  EXPECT_STREQ(frameTypeName(FrameType::Datagram), "DGRAM");
}

TEST(DatagramFrames, BackToBackDatagramsKeepTheirBoundaries) {
  std::vector<uint8_t> empty;
  std::vector<uint8_t> largest(kMaxDatagram, 0xab);
  std::vector<uint8_t> small{1, 2, 3};
  std::vector<uint8_t> wire = frameBytes(FrameType::DatagramOpen, 7, textPayload("h:53"), 0);
  for (auto* payload : {&empty, &largest, &small}) {
    auto bytes = frameBytes(FrameType::Datagram, 7, *payload, 0);
    wire.insert(wire.end(), bytes.begin(), bytes.end());
  }
  std::span<const uint8_t> rest(wire);
  std::vector<size_t> sizes;
  while (!rest.empty()) {
    DecodeResult result = decodeFrame(rest);
    ASSERT_EQ(result.status, DecodeStatus::Ok) << result.error;
    EXPECT_EQ(result.frame.header.stream, 7u);
    sizes.push_back(result.frame.payload.size());
    rest = rest.subspan(result.consumed);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 0, kMaxDatagram, 3}));
}

TEST(DatagramFrames, CloseReasonRoundTripsAndToleratesOddPayloads) {
  for (auto reason : {FlowCloseReason::IdleTimeout, FlowCloseReason::Refused,
                      FlowCloseReason::Limit, FlowCloseReason::Error}) {
    uint8_t byte = encodeFlowClose(reason);
    EXPECT_EQ(decodeFlowClose({&byte, 1}), reason);
  }
  EXPECT_EQ(decodeFlowClose({}), FlowCloseReason::Unspecified);
  uint8_t unknown = 200;
  EXPECT_EQ(decodeFlowClose({&unknown, 1}), FlowCloseReason::Unspecified);
  uint8_t longer[] = {2, 9, 9};  // later fields are ignored
  EXPECT_EQ(decodeFlowClose(longer), FlowCloseReason::Refused);
}

}  // namespace
}  // namespace ferry::proto
