#include "proto/Listen.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/Frame.h"

namespace ferry::proto {
namespace {

std::vector<uint8_t> bytes(std::string_view text) {
  return {text.begin(), text.end()};
}

std::vector<uint8_t> withId(uint32_t id, std::vector<uint8_t> rest) {
  std::vector<uint8_t> out(4);
  putU32(out.data(), id);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

TEST(ListenCodec, RequestRoundTrips) {
  ListenRequest request{0xdeadbeef, "[::1]:8022"};
  auto decoded = decodeListen(encodeListen(request));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(decoded->requestId, 0xdeadbeef);
  EXPECT_EQ(decoded->bind, "[::1]:8022");
}

TEST(ListenCodec, ResultRoundTripsEveryStatus) {
  for (ListenStatus status : {ListenStatus::Ok, ListenStatus::NotAllowed,
                              ListenStatus::AddressInUse, ListenStatus::Other}) {
    ListenResult result{7, status, "cannot listen on 127.0.0.1:80: Permission denied"};
    auto decoded = decodeListenResult(encodeListenResult(result));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    EXPECT_EQ(decoded->requestId, 7u);
    EXPECT_EQ(decoded->status, status);
    EXPECT_EQ(decoded->text, result.text);
  }
  auto empty = decodeListenResult(encodeListenResult({1, ListenStatus::Other, ""}));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->text, "");
}

TEST(ListenCodec, BadRequestsAreRefusedWithAReason) {
  const std::vector<std::vector<uint8_t>> bad = {
      {},
      {1, 0, 0},
      withId(1, {}),                              // no bind text
      withId(1, bytes("127.0.0.1 :80")),          // a space
      withId(1, bytes("80\n[forged log line]")),  // a control character
      withId(1, {0x38, 0x30, 0xc3, 0xa9}),        // not ASCII
      withId(1, std::vector<uint8_t>(ListenRequest::kMaxText + 1, '1')),
  };
  for (const auto& payload : bad) {
    auto decoded = decodeListen(payload);
    ASSERT_FALSE(decoded.has_value()) << payload.size();
    EXPECT_EQ(decoded.error().code, EPROTO);
    EXPECT_FALSE(decoded.error().message.empty());
  }
  EXPECT_TRUE(decodeListen(withId(1, std::vector<uint8_t>(ListenRequest::kMaxText, '1'))));
}

TEST(ListenCodec, BadResultsAreRefusedWithAReason) {
  const std::vector<std::vector<uint8_t>> bad = {
      {},
      {1, 0, 0, 0},
      withId(1, {4}),  // unknown status
      withId(1, {255, 'x'}),
      withId(1, {0, '1', '\r', '2'}),
      withId(1,
             [] {
               std::vector<uint8_t> text(ListenResult::kMaxText + 2, 'a');
               text[0] = 3;
               return text;
             }()),
  };
  for (const auto& payload : bad) {
    auto decoded = decodeListenResult(payload);
    ASSERT_FALSE(decoded.has_value()) << payload.size();
    EXPECT_EQ(decoded.error().code, EPROTO);
  }
}

TEST(ListenCodec, EncoderKeepsItsOutputDecodable) {
  std::string reason(ListenResult::kMaxText + 100, 'r');
  reason[3] = '\n';
  auto decoded = decodeListenResult(encodeListenResult({2, ListenStatus::Other, reason}));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(decoded->text.size(), ListenResult::kMaxText);
  EXPECT_EQ(decoded->text[3], '?');
}

}  // namespace
}  // namespace ferry::proto
