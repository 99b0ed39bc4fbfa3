#include "forward/Backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace ferry::forward {
namespace {

using namespace std::chrono_literals;

bool within(io::Duration value, io::Duration base) {
  return value >= base * (1 - Backoff::kJitter) && value <= base * (1 + Backoff::kJitter);
}

TEST(Backoff, DoublesFromAHundredMillisecondsUpToThirtySeconds) {
  Backoff backoff(1);
  io::Duration base = 100ms;
  for (int i = 0; i < 12; ++i) {
    io::Duration delay = backoff.next();
    EXPECT_TRUE(within(delay, std::min<io::Duration>(base, 30s)) || delay == 30s)
        << "attempt " << i << ": " << delay.count() << " ns";
    EXPECT_LE(delay, Backoff::kMax);
    base *= 2;
  }
  // Well past the cap every delay stays within [22.5 s, 30 s].
  for (int i = 0; i < 100; ++i) {
    io::Duration delay = backoff.next();
    EXPECT_GE(delay, 22500ms);
    EXPECT_LE(delay, 30s);
  }
}

TEST(Backoff, FailingSessionsInSixSecondsAreFew) {
  // What the integration test counts: attempts that fit in 6 s when each fails at once.
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Backoff backoff(seed);
    io::Duration elapsed{};
    int attempts = 1;
    while ((elapsed += backoff.next()) < 6s) {
      attempts++;
    }
    EXPECT_LE(attempts, 7) << "seed " << seed;
  }
}

TEST(Backoff, JitterSpreadsClientsAndResetStartsOver) {
  std::set<io::Duration::rep> firsts;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    firsts.insert(Backoff(seed).next().count());
  }
  EXPECT_GT(firsts.size(), 15u);
  Backoff backoff(7);
  for (int i = 0; i < 8; ++i) {
    backoff.next();
  }
  backoff.reset();
  EXPECT_TRUE(within(backoff.next(), 100ms));
}

}  // namespace
}  // namespace ferry::forward
