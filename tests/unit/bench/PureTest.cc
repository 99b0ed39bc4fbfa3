#include <gtest/gtest.h>

#include <regex>

#include "bench/LatencyStats.h"
#include "bench/Pattern.h"
#include "bench/Report.h"
#include "bench/SizeList.h"

namespace ferry::bench {
namespace {

TEST(SizeListTest, ParsesTheDefaultList) {
  auto sizes = parseSizeList("1,10,100,1000,10000,100000");
  ASSERT_TRUE(sizes);
  EXPECT_EQ(*sizes, (std::vector<size_t>{1, 10, 100, 1000, 10000, 100000}));
}

TEST(SizeListTest, RejectsNonNumbersNamingTheEntry) {
  auto sizes = parseSizeList("1,x,3");
  ASSERT_FALSE(sizes);
  EXPECT_NE(sizes.error().message.find("'x'"), std::string::npos) << sizes.error().message;
}

TEST(SizeListTest, RejectsEmptyZeroHugeAndStrayCharacters) {
  for (const char* bad : {"", ",", "1,", ",1", "0", "1,,2", " 1", "1 ", "-1", "10k", "67108865",
                          "99999999999999999999999"}) {
    EXPECT_FALSE(parseSizeList(bad)) << "'" << bad << "'";
  }
  EXPECT_TRUE(parseSizeList("67108864"));
}

TEST(LatencyStatsTest, NearestRankPercentiles) {
  LatencyStats stats;
  for (int i = 100; i >= 1; --i) {  // unsorted input
    stats.add(std::chrono::nanoseconds(i));
  }
  EXPECT_DOUBLE_EQ(stats.meanNs(), 50.5);
  EXPECT_DOUBLE_EQ(stats.percentileNs(50), 50);
  EXPECT_DOUBLE_EQ(stats.percentileNs(99), 99);
  EXPECT_DOUBLE_EQ(stats.percentileNs(100), 100);
  EXPECT_DOUBLE_EQ(stats.percentileNs(0), 1);
}

TEST(LatencyStatsTest, SmallAndEmptySets) {
  LatencyStats stats;
  EXPECT_EQ(stats.meanNs(), 0);
  EXPECT_EQ(stats.percentileNs(50), 0);
  stats.add(std::chrono::nanoseconds(7));
  EXPECT_EQ(stats.percentileNs(99), 7);
  stats.add(std::chrono::nanoseconds(3));  // added after a sort: must be re-sorted
  EXPECT_EQ(stats.percentileNs(50), 3);
  EXPECT_EQ(stats.percentileNs(99), 7);
}

TEST(PatternTest, DeterministicAndDifferentPerRound) {
  std::vector<uint8_t> a(1001), b(1001), c(1001);
  fillPattern(a, patternSeed(1001, 0));
  fillPattern(b, patternSeed(1001, 0));
  fillPattern(c, patternSeed(1001, 1));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(patternSeed(1, 0), patternSeed(0, 1));
}

TEST(PatternTest, FirstMismatchFindsTheByte) {
  std::vector<uint8_t> sent(100);
  fillPattern(sent, 42);
  std::vector<uint8_t> got = sent;
  EXPECT_FALSE(firstMismatch(sent, got));
  got[73] ^= 1;
  EXPECT_EQ(firstMismatch(sent, got), 73u);
  got = sent;
  got.pop_back();
  EXPECT_EQ(firstMismatch(sent, got), 99u);
  EXPECT_FALSE(firstMismatch({}, {}));
}

TEST(ReportTest, EchoTableFormatIsExact) {
  std::vector<EchoRow> rows = {{1, 0.03124, 29.14, 55.0}, {100000, 1.5, 1400.04, 2000.06}};
  EXPECT_EQ(formatEchoTable("Direct", rows),
            "Mode: Direct\n1\t0.0312\t29.1\t55.0\n100000\t1.5000\t1400.0\t2000.1\n");
}

TEST(ReportTest, JsonEscapesAndLooksLikeJson) {
  EXPECT_EQ(jsonString("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
  std::vector<EchoRow> rows = {{1, 0.5, 1, 2}};
  std::string json = echoJson("x", 10, rows);
  EXPECT_TRUE(std::regex_search(json, std::regex(R"("rows": \[\s*\{"size": 1, "avg_ms": 0.5000)")))
      << json;
}

TEST(ReportTest, RateAndThroughputLines) {
  std::vector<RateResult> results(1);
  results[0].batch = 64;
  results[0].messagesPerSecond = 1234567.4;
  results[0].megabytesPerSecond = 158.02;
  EXPECT_EQ(formatRate(results), "batch=64\tmsgs/s=1234567\tMB/s=158.0\n");
  ThroughputResult throughput{4, 3.0012, 1000, 12.345};
  EXPECT_EQ(formatThroughput(throughput), "streams=4\tseconds=3.00\tGbit/s=12.35\n");
}

}  // namespace
}  // namespace ferry::bench
