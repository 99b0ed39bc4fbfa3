#include "bench/ScaleClient.h"

#include "io/FileLimit.h"

#include <sys/socket.h>

#include <fmt/format.h>

#include "bench/BlockingIo.h"
#include "bench/LatencyStats.h"
#include "bench/Pattern.h"
#include "io/Socket.h"

namespace ferry::bench {
namespace {

constexpr auto kIoTimeout = std::chrono::seconds(10);

io::Result<ScaleRow> measure(int fd, size_t idle, size_t count, pid_t serverPid) {
  LatencyStats stats;
  stats.reserve(count);
  for (size_t round = 0; round < count; ++round) {
    uint8_t sent = static_cast<uint8_t>(patternSeed(idle, round) * 0x9e3779b97f4a7c15ULL >> 56);
    uint8_t received = 0;
    io::TimePoint start = io::Clock::now();
    if (auto written = writeAll(fd, std::span(&sent, 1)); !written) {
      return std::unexpected(written.error());
    }
    if (auto read = readExact(fd, std::span(&received, 1)); !read) {
      return std::unexpected(read.error());
    }
    stats.add(io::Clock::now() - start);
    if (received != sent) {
      return std::unexpected(
          io::Error{EPROTO, fmt::format("echo mismatch: round {}: sent 0x{:02x}, got 0x{:02x}",
                                        round, sent, received)});
    }
  }
  return ScaleRow{idle,
                  stats.meanNs() / 1e3,
                  stats.percentileNs(50) / 1e3,
                  stats.percentileNs(99) / 1e3,
                  residentKb(),
                  serverPid ? residentKb(serverPid) : 0};
}

/// An error when `connections` idle sockets would not fit under the file limit (raised first).
io::Result<void> checkFileLimit(size_t connections) {
  size_t limit = io::raiseFileLimit();
  // Our fds besides the sockets: stdio, the active connection and a few for libraries.
  constexpr size_t kReservedFds = 16;
  if (limit < connections + kReservedFds) {
    return std::unexpected(io::Error{
        EMFILE, fmt::format("{} connections need more file descriptors than the limit of {} "
                            "(raise the hard limit: ulimit -Hn)",
                            connections, limit)});
  }
  return {};
}

io::Result<std::vector<io::Fd>> openIdle(const io::Address& server, size_t connections,
                                         Progress& progress) {
  std::vector<io::Fd> idle;
  idle.reserve(connections);
  for (size_t i = 0; i < connections; ++i) {
    auto connected = io::connectTcpBlocking(server);
    if (!connected) {
      return std::unexpected(
          io::Error{connected.error().code, fmt::format("idle connection {} of {}: {}", i + 1,
                                                        connections, connected.error().message)});
    }
    idle.push_back(std::move(*connected));
    if (progress.due()) {
      progress.show(fmt::format("scale: {}/{} idle connections open", i + 1, connections));
    }
  }
  return idle;
}

/// A finished connect() only means the kernel completed the handshake; one echo on each idle
/// connection proves the server accepted and serves every one before the measurement.
io::Result<void> probeIdle(const std::vector<io::Fd>& idle) {
  for (size_t i = 0; i < idle.size(); ++i) {
    int fd = idle[i].get();
    setIoTimeout(fd, kIoTimeout);
    uint8_t probe = static_cast<uint8_t>(i);
    uint8_t echoed = 0;
    auto done = writeAll(fd, std::span(&probe, 1));
    if (done) {
      done = readExact(fd, std::span(&echoed, 1));
    }
    if (!done || echoed != probe) {
      return std::unexpected(
          io::Error{EPROTO, fmt::format("idle connection {} of {} is not served: {}", i + 1,
                                        idle.size(), done ? "wrong echo" : done.error().message)});
    }
  }
  return {};
}

}  // namespace

io::Result<std::vector<ScaleRow>> runScale(const io::Address& server, size_t connections,
                                           size_t count, pid_t serverPid, Progress& progress) {
  if (auto fits = checkFileLimit(connections); !fits) {
    return std::unexpected(fits.error());
  }
  auto active = connectWithTimeout(server, kIoTimeout);
  if (!active) {
    return std::unexpected(active.error());
  }
  std::vector<ScaleRow> rows;
  auto baseline = measure(active->get(), 0, count, serverPid);
  if (!baseline) {
    return std::unexpected(baseline.error());
  }
  rows.push_back(*baseline);
  auto idle = openIdle(server, connections, progress);
  if (!idle) {
    return std::unexpected(idle.error());
  }
  if (auto served = probeIdle(*idle); !served) {
    return std::unexpected(served.error());
  }
  progress.finish();
  auto loaded = measure(active->get(), connections, count, serverPid);
  if (!loaded) {
    return std::unexpected(loaded.error());
  }
  rows.push_back(*loaded);
  return rows;
}

}  // namespace ferry::bench
