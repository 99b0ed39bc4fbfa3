#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "io/Address.h"
#include "io/Clock.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Socket.h"

namespace ferry::bench {

/// Helpers for the blocking benchmark clients (one connection driven at a time, so a blocking
/// socket measures the network path without event-loop overhead on the client side).

/// Sets SO_RCVTIMEO and SO_SNDTIMEO so a stuck server ends the run with an error, not a hang.
void setIoTimeout(int fd, io::Duration timeout);
/// A blocking connection to `server` with setIoTimeout(`timeout`) applied.
io::Result<io::Fd> connectWithTimeout(const io::Address& server, io::Duration timeout);
/// Connects each of `items` (anything with an `io::Fd fd`) to `server` for a client that runs
/// on an event loop: the connects block, so "refused" is a clear, immediate error; the fds are
/// then made non-blocking.
template <typename T>
io::Result<void> connectEachNonBlocking(const io::Address& server, std::span<T> items) {
  for (T& item : items) {
    auto connected = io::connectTcpBlocking(server);
    if (!connected) {
      return std::unexpected(connected.error());
    }
    item.fd = std::move(*connected);
    io::setNonBlocking(item.fd.get());
  }
  return {};
}
/// Writes all of `bytes`, retrying short writes and EINTR.
io::Result<void> writeAll(int fd, std::span<const uint8_t> bytes);
/// Reads exactly `out.size()` bytes. An early EOF is an error naming how many bytes came.
io::Result<void> readExact(int fd, std::span<uint8_t> out);
/// Reads and discards until EOF; returns how many bytes were discarded.
io::Result<size_t> readUntilEof(int fd);

/// VmRSS of process `pid` (0 = this process) in KiB, from /proc/PID/status; 0 if unreadable.
size_t residentKb(pid_t pid = 0);

}  // namespace ferry::bench
