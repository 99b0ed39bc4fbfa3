#pragma once

#include <cstddef>
#include <cstdint>

#include "bench/Progress.h"
#include "bench/SizeList.h"
#include "io/Address.h"
#include "io/Error.h"
#include "io/Loop.h"

namespace ferry::bench {

/// Request/response figures.
struct RrResult {
  size_t connections = 0;
  double seconds = 0;     // from the first request until the last reply came back
  uint64_t requests = 0;  // completed request/reply exchanges
  uint64_t replyBytes = 0;
  double requestsPerSecond = 0;
  double p50Us = 0;  // request written .. whole reply read
  double p99Us = 0;
};

/// Keeps `connections` keep-alive connections to an rr-server busy for `seconds`, all driven by
/// `loop` (one thread): each sends a request (RequestReply.h) for a reply size picked from
/// `replySizes`, reads and checks the whole reply, and sends the next. After `seconds` no new
/// request is sent; the run ends when every connection has its last reply.
io::Result<RrResult> runRequestReply(io::Loop& loop, const io::Address& server, size_t connections,
                                     double seconds, SizeRange replySizes, Progress& progress);

}  // namespace ferry::bench
