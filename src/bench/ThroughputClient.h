#pragma once

#include <cstddef>
#include <cstdint>

#include "bench/Progress.h"
#include "io/Address.h"
#include "io/Error.h"
#include "io/Loop.h"

namespace ferry::bench {

/// Bulk transfer figures.
struct ThroughputResult {
  size_t streams = 0;
  double seconds = 0;  // from the first write until the server closed the last stream
  uint64_t bytes = 0;  // bytes all streams wrote (the sink read them all before closing)
  double gigabitsPerSecond = 0;
};

/// Writes as fast as the sockets take it on `streams` connections to a discarding server for
/// `seconds`, all driven by `loop`; then half-closes each stream and waits for the server to
/// close it, so the figure counts only bytes the receiver has read.
io::Result<ThroughputResult> runThroughput(io::Loop& loop, const io::Address& server,
                                           double seconds, size_t streams, Progress& progress);

}  // namespace ferry::bench
