#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "bench/Progress.h"
#include "io/Address.h"
#include "io/Error.h"

namespace ferry::bench {

/// One row of the echo table: round-trip figures for one message size.
struct EchoRow {
  size_t size = 0;   // bytes per message
  double avgMs = 0;  // mean round trip, milliseconds
  double p50Us = 0;  // median round trip, microseconds
  double p99Us = 0;  // 99th percentile round trip, microseconds
};

/// The seed's method: for each size, one connection; `count` times send the whole message and
/// read until as many bytes are back, timing each round trip with the steady clock. Every echoed
/// byte is compared with what was sent (a pattern that differs per round); a mismatch, an early
/// EOF or a failed connection ends the run with an error.
io::Result<std::vector<EchoRow>> runEcho(const io::Address& server, std::span<const size_t> sizes,
                                         size_t count, Progress& progress);

}  // namespace ferry::bench
