// The receiver's credit auto-tuning rule, as arithmetic.
#include "mux/Credit.h"

#include <gtest/gtest.h>

namespace ferry::mux {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
const CreditLimits kLimits{16 * kMiB, 64 * kMiB};

/// Returns half windows limited by credit (sender dry, output drained) until the window grows or
/// `returns` were made; the growth, 0 when none.
uint64_t limitedReturns(ReceiveWindow& window, int returns, uint64_t committed = 0,
                        const CreditLimits& limits = kLimits) {
  for (int i = 0; i < returns; ++i) {
    uint64_t half = window.size() / 2;
    if (uint64_t growth = window.onReturn(limits, {half, 0, true, committed + half})) {
      return growth;
    }
  }
  return 0;
}

TEST(CreditTuning, DoublesAfterSeveralWindowsLimitedByCredit) {
  ReceiveWindow window(256 * kKiB);
  int returnsNeeded = 2 * ReceiveWindow::kLimitedWindows;
  EXPECT_EQ(limitedReturns(window, returnsNeeded - 1), 0u);
  EXPECT_EQ(limitedReturns(window, 1), 256 * kKiB);
  EXPECT_EQ(window.size(), 512 * kKiB);
  // The evidence starts again for the bigger window.
  EXPECT_EQ(limitedReturns(window, returnsNeeded - 1), 0u);
  EXPECT_EQ(limitedReturns(window, 1), 512 * kKiB);
}

TEST(CreditTuning, ASenderThatSaidBlockedDoublesTheWindowAtOnce) {
  ReceiveWindow window(256 * kKiB);
  // Seen from here the sender kept half its window (credit reaches it late), but it said Blocked.
  CreditReturn blocked{128 * kKiB, 128 * kKiB, true, 1 * kMiB, true};
  EXPECT_EQ(window.onReturn(kLimits, blocked), 256 * kKiB);
  EXPECT_EQ(window.size(), 512 * kKiB);
  // The same return without Blocked is no evidence.
  blocked.senderBlocked = false;
  blocked.lowestPeerCredit = window.size() / 2;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(window.onReturn(kLimits, blocked), 0u);
  }
}

TEST(CreditTuning, BlockedDoesNotGrowTheWindowForASlowDestination) {
  ReceiveWindow window(256 * kKiB);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(window.onReturn(kLimits, {128 * kKiB, 0, false, 1 * kMiB, true}), 0u);
  }
  EXPECT_EQ(window.size(), 256 * kKiB);
}

TEST(CreditTuning, KeepsTheWindowForASlowDestination) {
  ReceiveWindow window(256 * kKiB);
  for (int i = 0; i < 100; ++i) {
    // Credit ran out, but bytes still wait for the socket: the destination is the limit.
    EXPECT_EQ(window.onReturn(kLimits, {128 * kKiB, 0, false, 1 * kMiB}), 0u);
  }
  EXPECT_EQ(window.size(), 256 * kKiB);
}

TEST(CreditTuning, KeepsTheWindowForASenderThatNeverRanDry) {
  ReceiveWindow window(256 * kKiB);
  for (int i = 0; i < 100; ++i) {
    // A sender producing slowly keeps more than a quarter of its window.
    EXPECT_EQ(window.onReturn(kLimits, {128 * kKiB, 64 * kKiB, true, 1 * kMiB}), 0u);
  }
}

TEST(CreditTuning, BytesWaitingForTheSocketHalveTheEvidence) {
  ReceiveWindow window(256 * kKiB);
  // 7 half windows of evidence, halved to 3.5: 4.5 more are needed.
  EXPECT_EQ(limitedReturns(window, 2 * ReceiveWindow::kLimitedWindows - 1), 0u);
  EXPECT_EQ(window.onReturn(kLimits, {128 * kKiB, 0, false, 1 * kMiB}), 0u);
  EXPECT_EQ(limitedReturns(window, 4), 0u);
  EXPECT_EQ(limitedReturns(window, 1), 256 * kKiB);
  // A destination that is always behind never grows the window.
  for (int i = 0; i < 100; ++i) {
    window.onReturn(kLimits, {256 * kKiB, 0, i % 2 == 0, 1 * kMiB});
  }
  EXPECT_EQ(window.size(), 512 * kKiB);
}

TEST(CreditTuning, ReturnsWhereTheSenderHadCreditLeftDoNotRestartTheEvidence) {
  ReceiveWindow window(256 * kKiB);
  EXPECT_EQ(limitedReturns(window, 2 * ReceiveWindow::kLimitedWindows - 1), 0u);
  EXPECT_EQ(window.onReturn(kLimits, {128 * kKiB, 200 * kKiB, true, 1 * kMiB}), 0u);
  EXPECT_EQ(limitedReturns(window, 1), 256 * kKiB);
}

TEST(CreditTuning, StopsAtTheLargestWindow) {
  ReceiveWindow window(12 * kMiB);
  EXPECT_EQ(limitedReturns(window, 100), 4 * kMiB);
  EXPECT_EQ(limitedReturns(window, 100), 0u);
  EXPECT_EQ(window.size(), 16 * kMiB);
}

TEST(CreditTuning, RespectsTheSessionCap) {
  ReceiveWindow window(8 * kMiB);
  // The committed bytes (with this return's increment) leave room for 2 MiB more.
  EXPECT_EQ(limitedReturns(window, 100, 62 * kMiB - 4 * kMiB), 2 * kMiB);
  EXPECT_EQ(limitedReturns(window, 100, 64 * kMiB), 0u);
  EXPECT_EQ(window.size(), 10 * kMiB);
}

TEST(CreditTuning, ResetReturnsToTheInitialWindow) {
  ReceiveWindow window(256 * kKiB);
  limitedReturns(window, 100);
  window.reset(256 * kKiB);
  EXPECT_EQ(window.size(), 256 * kKiB);
}

}  // namespace
}  // namespace ferry::mux
