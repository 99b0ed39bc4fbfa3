#pragma once

#include <cstdint>
#include <random>

#include "io/Clock.h"

namespace ferry::forward {

/// Delays between attempts to open a session that keep failing: exponential with jitter, so a
/// peer that fails every session at once (wrong key, a command that exits) costs a few sessions
/// a minute instead of ten a second, and many clients do not retry in step.
///
/// The n-th delay in a row is kFirst * 2^n times a random factor in [1 - kJitter, 1 + kJitter],
/// never more than kMax. reset() starts over; the owner calls it only after a session was
/// established and lived a while (see TunnelClient).
class Backoff {
 public:
  static constexpr io::Duration kFirst = std::chrono::milliseconds(100);
  static constexpr io::Duration kMax = std::chrono::seconds(30);
  static constexpr double kJitter = 0.25;

  explicit Backoff(uint64_t seed = std::random_device{}()) : random_(seed) {}

  /// The delay before the next attempt; each call doubles the one after it (up to kMax).
  io::Duration next();
  void reset() { base_ = kFirst; }

 private:
  io::Duration base_ = kFirst;
  std::mt19937_64 random_;
};

}  // namespace ferry::forward
