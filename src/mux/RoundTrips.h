#pragma once

#include <array>
#include <cstdint>

#include "io/Clock.h"

namespace ferry::mux {

/// Histogram of carrier round trips (a Ping and its echo), in the buckets /metrics exposes.
struct RoundTrips {
  /// Upper bounds of the buckets, in seconds: from a local tmpfs lane (tens of µs) to a slow
  /// polled network share (seconds).
  static constexpr std::array<double, 12> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   0.5,    2.5};

  std::array<uint64_t, kBounds.size()>
      buckets{};       // non-cumulative: samples in (bound[i-1], bound[i]]
  uint64_t count = 0;  // all samples, also those above the last bound
  double sumSeconds = 0;

  void add(io::Duration roundTrip);
  void merge(const RoundTrips& more);
};

}  // namespace ferry::mux
