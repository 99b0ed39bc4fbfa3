#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>

#include "bench/Report.h"
#include "bench/RequestReply.h"
#include "bench/RrClient.h"
#include "bench/RrServer.h"
#include "bench/SizeList.h"
#include "io/Socket.h"
#include "support/RunUntil.h"

namespace ferry::bench {
namespace {

TEST(SizeRangeTest, ParsesARangeAndASingleSize) {
  EXPECT_EQ(parseSizeRange("1024-16384"), (SizeRange{1024, 16384}));
  EXPECT_EQ(parseSizeRange("100"), (SizeRange{100, 100}));
  EXPECT_EQ(parseSizeRange("7-7"), (SizeRange{7, 7}));
  EXPECT_EQ(parseSizeRange("1-67108864"), (SizeRange{1, kMaxMessageSize}));
}

TEST(SizeRangeTest, RejectsBadEndsAndReversedRanges) {
  for (const char* bad :
       {"", "-", "1-", "-5", "0-10", "1--2", "1-2-3", "a-5", "5-b", " 1-2", "1-67108865", "1,2"}) {
    EXPECT_FALSE(parseSizeRange(bad)) << "'" << bad << "'";
  }
  auto reversed = parseSizeRange("9-3");
  ASSERT_FALSE(reversed);
  EXPECT_NE(reversed.error().message.find("'9-3'"), std::string::npos) << reversed.error().message;
}

TEST(RequestReplyTest, RequestCarriesTheReplySize) {
  for (uint32_t size : {1u, 1024u, 16384u, static_cast<uint32_t>(kMaxMessageSize)}) {
    EXPECT_EQ(requestedReplySize(encodeRequest(size)), size);
  }
  EXPECT_FALSE(requestedReplySize(encodeRequest(0)));
  EXPECT_FALSE(requestedReplySize(encodeRequest(static_cast<uint32_t>(kMaxMessageSize + 1))));
}

TEST(RequestReplyTest, ReplyDataChecksAcrossThePatternWrap) {
  std::span<const uint8_t> pattern = replyPattern();
  std::vector<uint8_t> reply(pattern.size() + 100);
  for (size_t i = 0; i < reply.size(); ++i) {
    reply[i] = pattern[(i + 10) % pattern.size()];
  }
  EXPECT_TRUE(isReplyData(10, reply));
  EXPECT_FALSE(isReplyData(11, reply));
  reply[pattern.size() + 50] ^= 1;  // a byte after the wrap
  EXPECT_FALSE(isReplyData(10, reply));
}

TEST(RequestReplyTest, PickedSizesStayInTheRangeAndCoverIt) {
  SizeRange range{1024, 1034};
  std::vector<int> seen(11);
  for (uint64_t index = 0; index < 1000; ++index) {
    size_t size = pickReplySize(range, index);
    ASSERT_GE(size, range.min);
    ASSERT_LE(size, range.max);
    ++seen[size - range.min];
  }
  for (int count : seen) {
    EXPECT_GT(count, 50);  // about 91 each when spread evenly
  }
  EXPECT_EQ(pickReplySize({5, 5}, 123), 5u);
}

TEST(RequestReplyTest, ReportLineFormatIsExact) {
  RrResult result{100, 3.004, 12000, 120000000, 3994.7, 250.04, 1200.06};
  EXPECT_EQ(formatRequestReply(result),
            "connections=100\tseconds=3.00\trequests=12000\treq/s=3995\tp50_us=250.0"
            "\tp99_us=1200.1\tMB/s=39.9\n");
}

// Client and server on one loop: every request is answered with the size it named (the client
// checks each byte), and the server holds no connection afterwards.
TEST(RequestReplyTest, ClientAndServerCompleteRequests) {
  io::Loop loop;
  RrServer server(loop);
  auto bound = server.listen(*io::Address::parse("127.0.0.1:0"));
  ASSERT_TRUE(bound) << bound.error().message;
  Progress progress(false);
  auto result = runRequestReply(loop, *bound, 8, 0.2, {1000, 300000}, progress);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->connections, 8u);
  EXPECT_GE(result->requests, 8u);
  EXPECT_EQ(server.requestsAnswered(), result->requests);
  EXPECT_GE(result->replyBytes, result->requests * 1000);
  EXPECT_GT(result->requestsPerSecond, 0);
  EXPECT_GT(result->p99Us, 0);
}

// A request naming a zero-byte reply is refused: the server closes the connection.
TEST(RequestReplyTest, ServerClosesOnABadRequest) {
  io::Loop loop;
  RrServer server(loop);
  auto bound = server.listen(*io::Address::parse("127.0.0.1:0"));
  ASSERT_TRUE(bound);
  auto client = io::connectTcpBlocking(*bound);
  ASSERT_TRUE(client);
  Request request = encodeRequest(0);
  ASSERT_EQ(::write(client->get(), request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  // Until the server's FIN arrives (recv returns 0), or 5 s.
  char byte = 0;
  ssize_t peeked = -1;
  test::runUntil(
      loop,
      [&] {
        peeked = ::recv(client->get(), &byte, 1, MSG_DONTWAIT | MSG_PEEK);
        return peeked == 0;
      },
      std::chrono::seconds(5));
  EXPECT_EQ(peeked, 0) << "no EOF: the server answered or kept the connection";
  EXPECT_EQ(server.connectionCount(), 0u);
  EXPECT_EQ(server.requestsAnswered(), 0u);
}

}  // namespace
}  // namespace ferry::bench
