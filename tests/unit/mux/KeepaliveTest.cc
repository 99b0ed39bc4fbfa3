#include "mux/Keepalive.h"

#include <gtest/gtest.h>

namespace ferry::mux {
namespace {

using namespace std::chrono_literals;

TEST(Keepalive, PingsWhenNothingWasSentForAnInterval) {
  io::TimePoint t0{};
  Keepalive keepalive(1s, 10s, t0);
  EXPECT_EQ(keepalive.nextDeadline(), t0 + 1s);
  EXPECT_EQ(keepalive.due(t0 + 999ms), Keepalive::Action::None);
  EXPECT_EQ(keepalive.due(t0 + 1s), Keepalive::Action::SendPing);
  keepalive.onSent(t0 + 700ms);
  EXPECT_EQ(keepalive.due(t0 + 1s), Keepalive::Action::None);
  EXPECT_EQ(keepalive.nextDeadline(), t0 + 1700ms);
}

TEST(Keepalive, DeadPeerOnlyAfterItsHello) {
  io::TimePoint t0{};
  Keepalive keepalive(1s, 3s, t0);
  EXPECT_NE(keepalive.due(t0 + 1h), Keepalive::Action::PeerDead);
  keepalive.onPeerHello(t0 + 1s, 500ms);
  keepalive.onSent(t0 + 3500ms);
  EXPECT_EQ(keepalive.nextDeadline(), t0 + 4s);
  EXPECT_EQ(keepalive.due(t0 + 3999ms), Keepalive::Action::None);
  EXPECT_EQ(keepalive.due(t0 + 4s), Keepalive::Action::PeerDead);
  keepalive.onReceived(t0 + 3900ms);
  EXPECT_EQ(keepalive.due(t0 + 4s), Keepalive::Action::None);
  EXPECT_EQ(keepalive.nextDeadline(), t0 + 4500ms);
}

TEST(Keepalive, DeadPeerTimeoutCoversTwoOfThePeersHeartbeats) {
  io::TimePoint t0{};
  Keepalive keepalive(1s, 200ms, t0);
  keepalive.onPeerHello(t0, 5s);
  EXPECT_EQ(keepalive.deadPeerTimeout(), 10s);
  EXPECT_EQ(keepalive.due(t0 + 9s), Keepalive::Action::SendPing);
  EXPECT_EQ(keepalive.due(t0 + 10s), Keepalive::Action::PeerDead);
}

}  // namespace
}  // namespace ferry::mux
