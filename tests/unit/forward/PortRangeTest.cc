#include "forward/PortRange.h"

#include <gtest/gtest.h>

namespace ferry::forward {
namespace {

TEST(PortRangeTest, ParsesOnePortARangeAndAny) {
  auto one = parsePortRange("80");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->low, 80);
  EXPECT_EQ(one->high, 80);
  auto range = parsePortRange("1024-65535");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->low, 1024);
  EXPECT_EQ(range->high, 65535);
  EXPECT_FALSE(range->contains(1023));
  EXPECT_TRUE(range->contains(65535));
  auto any = parsePortRange("*");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->low, 1);
  EXPECT_EQ(any->high, 65535);
}

TEST(PortRangeTest, RefusesWhatIsNotAPortFromOneTo65535) {
  for (const char* text :
       {"", "0", "65536", "-", "1-", "-5", "10-5", "+80", "80 ", "8o", "1-2-3", "99999999999"}) {
    EXPECT_FALSE(parsePortRange(text)) << text;
  }
}

}  // namespace
}  // namespace ferry::forward
