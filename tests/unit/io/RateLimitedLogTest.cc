#include "io/RateLimitedLog.h"

#include <gtest/gtest.h>

namespace ferry::io {
namespace {

TEST(RateLimitedLog, FirstLineThenOnePerIntervalWithTheCountLeftOut) {
  RateLimitedLog log(10s);
  TimePoint t0{};
  EXPECT_EQ(log.admit(t0), 0u);
  for (int i = 1; i <= 1000; ++i) {
    EXPECT_FALSE(log.admit(t0 + std::chrono::milliseconds(i)));
  }
  EXPECT_EQ(log.suppressed(), 1000u);
  EXPECT_EQ(log.admit(t0 + 10s), 1000u);
  EXPECT_EQ(log.suppressed(), 0u);
  EXPECT_FALSE(log.admit(t0 + 15s));
  EXPECT_EQ(log.admit(t0 + 60s), 1u);
}

}  // namespace
}  // namespace ferry::io
