#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "io/Address.h"
#include "io/Clock.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::bench {

/// Helpers for the blocking benchmark clients (one connection driven at a time, so a blocking
/// socket measures the network path without event-loop overhead on the client side).

/// Sets SO_RCVTIMEO and SO_SNDTIMEO so a stuck server ends the run with an error, not a hang.
void setIoTimeout(int fd, io::Duration timeout);
/// A blocking connection to `server` with setIoTimeout(`timeout`) applied.
io::Result<io::Fd> connectWithTimeout(const io::Address& server, io::Duration timeout);
/// Writes all of `bytes`, retrying short writes and EINTR.
io::Result<void> writeAll(int fd, std::span<const uint8_t> bytes);
/// Reads exactly `out.size()` bytes. An early EOF is an error naming how many bytes came.
io::Result<void> readExact(int fd, std::span<uint8_t> out);
/// Reads and discards until EOF; returns how many bytes were discarded.
io::Result<size_t> readUntilEof(int fd);

/// VmRSS of process `pid` (0 = this process) in KiB, from /proc/PID/status; 0 if unreadable.
size_t residentKb(pid_t pid = 0);

}  // namespace ferry::bench
