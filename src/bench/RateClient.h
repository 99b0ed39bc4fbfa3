#pragma once

#include <cstddef>

#include "bench/Progress.h"
#include "io/Address.h"
#include "io/Error.h"

namespace ferry::bench {

/// Message rate for one batch setting.
struct RateResult {
  size_t batch = 0;     // messages per write(2)
  size_t messages = 0;  // messages sent
  size_t size = 0;      // bytes per message
  double seconds = 0;   // first write to the server's close, so the drain is included
  double messagesPerSecond = 0;
  double megabytesPerSecond = 0;  // 10^6 bytes per second
};

/// Sends `count` messages of `size` bytes to a discarding server, `batch` messages per write(2),
/// then half-closes and waits for the server to close: the interval ends only when the receiver
/// has read everything.
io::Result<RateResult> runRate(const io::Address& server, size_t size, size_t count, size_t batch,
                               Progress& progress);

}  // namespace ferry::bench
