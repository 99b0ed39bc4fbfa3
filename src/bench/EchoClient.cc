#include "bench/EchoClient.h"

#include <sys/socket.h>

#include <fmt/format.h>

#include "bench/BlockingIo.h"
#include "bench/LatencyStats.h"
#include "bench/Pattern.h"
#include "io/Clock.h"

namespace ferry::bench {
namespace {

// A round trip on loopback takes microseconds; 10 s without progress means the server is stuck.
constexpr auto kIoTimeout = std::chrono::seconds(10);

io::Result<EchoRow> measureSize(const io::Address& server, size_t size, size_t count,
                                Progress& progress) {
  auto connected = connectWithTimeout(server, kIoTimeout);
  if (!connected) {
    return std::unexpected(connected.error());
  }
  int fd = connected->get();
  std::vector<uint8_t> sent(size);
  std::vector<uint8_t> received(size);
  LatencyStats stats;
  stats.reserve(count);
  for (size_t round = 0; round < count; ++round) {
    fillPattern(sent, patternSeed(size, round));
    io::TimePoint start = io::Clock::now();
    if (auto written = writeAll(fd, sent); !written) {
      return std::unexpected(written.error());
    }
    if (auto read = readExact(fd, received); !read) {
      return std::unexpected(read.error());
    }
    stats.add(io::Clock::now() - start);
    if (auto at = firstMismatch(sent, received)) {
      return std::unexpected(io::Error{
          EPROTO,
          fmt::format("echo mismatch: size {} round {} byte {}: sent 0x{:02x}, got 0x{:02x}", size,
                      round, *at, sent[*at], received[*at])});
    }
    if (progress.due()) {
      progress.show(fmt::format("echo size {}: {}/{}", size, round + 1, count));
    }
  }
  // A clean end: our FIN, then the server's FIN with no stray bytes before it.
  ::shutdown(fd, SHUT_WR);
  auto extra = readUntilEof(fd);
  if (!extra) {
    return std::unexpected(extra.error());
  }
  if (*extra != 0) {
    return std::unexpected(io::Error{
        EPROTO, fmt::format("echo mismatch: size {}: {} unexpected bytes after the last echo", size,
                            *extra)});
  }
  return EchoRow{size, stats.meanNs() / 1e6, stats.percentileNs(50) / 1e3,
                 stats.percentileNs(99) / 1e3};
}

}  // namespace

io::Result<std::vector<EchoRow>> runEcho(const io::Address& server, std::span<const size_t> sizes,
                                         size_t count, Progress& progress) {
  std::vector<EchoRow> rows;
  for (size_t size : sizes) {
    auto row = measureSize(server, size, count, progress);
    if (!row) {
      return std::unexpected(row.error());
    }
    rows.push_back(*row);
  }
  progress.finish();
  return rows;
}

}  // namespace ferry::bench
