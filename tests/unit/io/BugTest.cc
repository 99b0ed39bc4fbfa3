#include "io/Bug.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "io/Log.h"

namespace ferry::io {
namespace {

// Death tests fork; "threadsafe" re-executes the binary instead, safe next to spdlog's state.
class BugDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(BugDeathTest, BugAbortsWithPlaceAndMessageOnStderr) {
  EXPECT_DEATH(FERRY_BUG("stream {} is in two lists", 7),
               "ferry: bug at .*BugTest.cc:[0-9]+: stream 7 is in two lists");
}

TEST_F(BugDeathTest, CheckAbortsOnlyWhenTheConditionIsFalse) {
  int open = 2;
  FERRY_CHECK(open == 2, "never shown");
  EXPECT_DEATH(FERRY_CHECK(open == 3, "{} open", open),
               "bug at .*: check `open == 3` failed: 2 open");
}

TEST_F(BugDeathTest, GoesThroughTheConfiguredLogger) {
  EXPECT_DEATH(
      {
        auto logger = spdlog::stderr_logger_mt("bug-test");
        logger->set_pattern("LOGGED %l %v");
        spdlog::set_default_logger(logger);
        FERRY_BUG("seen by the log");
      },
      "LOGGED critical bug at .*: seen by the log");
}

}  // namespace
}  // namespace ferry::io
