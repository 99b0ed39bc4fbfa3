#include "forward/UdpFlowTable.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::forward {
namespace {

using namespace std::chrono_literals;
using Table = UdpFlowTable<std::string>;

io::TimePoint at(int seconds) {
  return io::TimePoint{} + std::chrono::seconds(seconds);
}

std::vector<uint32_t> expire(Table& table, io::TimePoint now, io::Duration timeout) {
  std::vector<uint32_t> gone;
  table.expire(now, timeout, [&](Table::Entry& entry) { gone.push_back(entry.id); });
  return gone;
}

TEST(UdpFlowTable, ExpiresOnlyFlowsIdleForTheTimeoutOldestFirst) {
  Table table(10);
  table.add(1, "a", at(0));
  table.add(3, "b", at(1));
  table.add(5, "c", at(2));
  EXPECT_TRUE(expire(table, at(60), 60s) == std::vector<uint32_t>{1});
  EXPECT_TRUE(expire(table, at(62), 60s) == (std::vector<uint32_t>{3, 5}));
  EXPECT_EQ(table.size(), 0u);
}

TEST(UdpFlowTable, ActivityKeepsAFlowAlive) {
  Table table(10);
  table.add(1, "a", at(0));
  table.add(3, "b", at(0));
  ASSERT_NE(table.touch(1, at(50)), nullptr);
  EXPECT_TRUE(expire(table, at(60), 60s) == std::vector<uint32_t>{3});
  EXPECT_NE(table.find(1), nullptr);
  EXPECT_TRUE(expire(table, at(110), 60s) == std::vector<uint32_t>{1});
}

TEST(UdpFlowTable, ExpiryStopsAtTheFirstFreshFlow) {
  Table table(1000);
  for (uint32_t id = 1; id < 1000; id += 2) {
    table.add(id, "x", at(10));
  }
  size_t visited = 0;
  table.expire(at(20), 60s, [&](Table::Entry&) { visited++; });
  EXPECT_EQ(visited, 0u);  // nothing walked: the oldest is fresh
  EXPECT_EQ(table.size(), 500u);
}

TEST(UdpFlowTable, RefusesFlowsBeyondTheLimitAndTakenIds) {
  Table table(2);
  EXPECT_NE(table.add(1, "a", at(0)), nullptr);
  EXPECT_EQ(table.add(1, "again", at(0)), nullptr);
  EXPECT_NE(table.add(3, "b", at(0)), nullptr);
  EXPECT_TRUE(table.full());
  EXPECT_EQ(table.add(5, "c", at(0)), nullptr);
  table.remove(1);
  EXPECT_NE(table.add(5, "c", at(0)), nullptr);
  EXPECT_EQ(table.touch(1, at(1)), nullptr);
}

TEST(UdpFlowTable, ClearVisitsEveryFlow) {
  Table table(4);
  table.add(1, "a", at(0));
  table.add(3, "b", at(0));
  std::string seen;
  table.clear([&](Table::Entry& entry) { seen += entry.flow; });
  EXPECT_EQ(seen, "ab");
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace ferry::forward
