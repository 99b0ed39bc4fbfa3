#pragma once

#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "bench/Progress.h"
#include "io/Address.h"
#include "io/Error.h"

namespace ferry::bench {

/// Round-trip figures with a given number of idle connections open alongside.
struct ScaleRow {
  size_t idle = 0;   // idle connections open during the measurement
  double avgUs = 0;  // 1-byte echo round trip, microseconds
  double p50Us = 0;
  double p99Us = 0;
  size_t rssKb = 0;        // this (client) process's VmRSS
  size_t serverRssKb = 0;  // the server's VmRSS when its pid was given, else 0
};

/// Measures the 1-byte echo round trip (`count` times) on one active connection, first with no
/// other connection open, then again after opening `connections` idle ones to the same server:
/// if the server's cost grows with open connections rather than active ones, the second row
/// shows it. `serverPid` (0 = unknown) lets the rows include the server's memory.
io::Result<std::vector<ScaleRow>> runScale(const io::Address& server, size_t connections,
                                           size_t count, pid_t serverPid, Progress& progress);

}  // namespace ferry::bench
