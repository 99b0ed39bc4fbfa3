#include "bench/ThroughputClient.h"

#include <sys/socket.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "bench/BlockingIo.h"
#include "bench/Pattern.h"
#include "io/Socket.h"

namespace ferry::bench {
namespace {

// Bytes per write(2): large enough that syscall cost is noise next to copying.
constexpr size_t kChunkSize = 256 * 1024;
// How long the sink may take to read the tail and close after our FIN.
constexpr auto kDrainTimeout = std::chrono::seconds(30);

struct Stream {
  io::Fd fd;
  uint64_t bytes = 0;
  bool draining = false;
  bool closed = false;
};

}  // namespace

io::Result<ThroughputResult> runThroughput(io::Loop& loop, const io::Address& server,
                                           double seconds, size_t streams, Progress& progress) {
  std::vector<Stream> all(streams);
  if (auto connected = connectEachNonBlocking(server, std::span(all)); !connected) {
    return std::unexpected(connected.error());
  }
  std::vector<uint8_t> chunk(kChunkSize);
  fillPattern(chunk, patternSeed(kChunkSize, streams));

  size_t open = streams;
  std::optional<io::Error> failure;
  auto closeStream = [&](Stream& stream) {
    loop.unwatch(stream.fd.get());
    stream.fd.reset();
    stream.closed = true;
    if (--open == 0) {
      loop.stop();
    }
  };
  auto fail = [&](Stream& stream, io::Error error) {
    if (!failure) {
      failure = std::move(error);
    }
    closeStream(stream);
  };
  for (Stream& stream : all) {
    loop.watch(stream.fd.get(), EPOLLOUT, [&](uint32_t events) {
      if (stream.draining) {
        char scratch[4096];
        ssize_t n = ::read(stream.fd.get(), scratch, sizeof scratch);
        if (n == 0 || (events & (EPOLLHUP | EPOLLERR))) {
          closeStream(stream);
        } else if (n > 0) {
          fail(stream, io::Error{EPROTO, "the server sent data: use a sink-server for throughput"});
        }
        return;
      }
      ssize_t n = ::write(stream.fd.get(), chunk.data(), chunk.size());
      if (n > 0) {
        stream.bytes += static_cast<uint64_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        fail(stream, io::systemError("write to the server"));
      }
    });
  }

  io::TimePoint start = io::Clock::now();
  auto deadline =
      start + std::chrono::duration_cast<io::Duration>(std::chrono::duration<double>(seconds));
  io::Loop::TimerId progressTimer = 0;
  std::function<void()> showProgress = [&] {
    if (progress.due()) {
      uint64_t total = 0;
      for (const Stream& stream : all) {
        total += stream.bytes;
      }
      double elapsed = std::chrono::duration<double>(io::Clock::now() - start).count();
      progress.show(fmt::format("throughput: {:.1f} s, {:.2f} Gbit/s", elapsed,
                                static_cast<double>(total) * 8 / elapsed / 1e9));
    }
    progressTimer = loop.addTimerAfter(std::chrono::milliseconds(200), showProgress);
  };
  if (progress.enabled()) {
    progressTimer = loop.addTimerAfter(std::chrono::milliseconds(200), showProgress);
  }
  io::Loop::TimerId deadlineTimer = loop.addTimer(deadline, [&] {
    for (Stream& stream : all) {
      if (!stream.closed) {
        stream.draining = true;
        ::shutdown(stream.fd.get(), SHUT_WR);
        loop.modify(stream.fd.get(), EPOLLIN | EPOLLRDHUP);
      }
    }
  });
  io::Loop::TimerId drainTimer = loop.addTimer(deadline + kDrainTimeout, [&] {
    for (Stream& stream : all) {
      if (!stream.closed) {
        fail(stream, io::Error{ETIMEDOUT, "the server did not close the stream after our FIN"});
      }
    }
  });
  loop.run();
  double elapsed = std::chrono::duration<double>(io::Clock::now() - start).count();
  loop.cancelTimer(deadlineTimer);
  loop.cancelTimer(drainTimer);
  loop.cancelTimer(progressTimer);
  progress.finish();
  if (failure) {
    return std::unexpected(*failure);
  }
  ThroughputResult result;
  result.streams = streams;
  result.seconds = elapsed;
  for (const Stream& stream : all) {
    result.bytes += stream.bytes;
  }
  result.gigabitsPerSecond = static_cast<double>(result.bytes) * 8 / elapsed / 1e9;
  return result;
}

}  // namespace ferry::bench
