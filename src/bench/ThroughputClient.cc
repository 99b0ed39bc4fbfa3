#include "bench/ThroughputClient.h"

#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "bench/BlockingIo.h"
#include "bench/Pattern.h"
#include "io/Socket.h"
#include "io/Timer.h"

namespace ferry::bench {
namespace {

// Bytes per write(2): large enough that syscall cost is noise next to copying.
constexpr size_t kChunkSize = 256 * 1024;
// How long the sink may take to read the tail and close after our FIN.
constexpr auto kDrainTimeout = std::chrono::seconds(30);
constexpr auto kProgressInterval = std::chrono::milliseconds(200);

struct Stream {
  io::Fd fd;
  uint64_t bytes = 0;
  bool draining = false;
  bool closed = false;
};

/// One measurement: the streams' writes on the loop until the deadline, then the drain (our FIN,
/// the sink's close), with the progress line on a timer.
class ThroughputRun {
 public:
  ThroughputRun(io::Loop& loop, std::vector<Stream>& streams, Progress& progress)
      : loop_(loop), streams_(streams), progress_(progress), open_(streams.size()) {
    fillPattern(chunk_, patternSeed(kChunkSize, streams.size()));
  }

  /// Runs until every stream is closed; returns the seconds from start to the last close.
  io::Result<double> run(double seconds);

 private:
  void onEvents(Stream& stream, uint32_t events);
  void closeStream(Stream& stream);
  void fail(Stream& stream, io::Error error);
  /// At the deadline: half-close each stream and wait for the sink to close it.
  void startDraining();
  void failUndrained();
  uint64_t totalBytes() const;
  void showProgress();

  io::Loop& loop_;
  std::vector<Stream>& streams_;
  Progress& progress_;
  std::vector<uint8_t> chunk_ = std::vector<uint8_t>(kChunkSize);
  size_t open_;
  std::optional<io::Error> failure_;
  io::TimePoint start_;
  io::Timer progressTimer_{loop_};
};

io::Result<double> ThroughputRun::run(double seconds) {
  for (Stream& stream : streams_) {
    loop_.watch(stream.fd.get(), EPOLLOUT,
                [this, &stream](uint32_t events) { onEvents(stream, events); });
  }
  start_ = io::Clock::now();
  auto deadline =
      start_ + std::chrono::duration_cast<io::Duration>(std::chrono::duration<double>(seconds));
  if (progress_.enabled()) {
    progressTimer_.armAfter(kProgressInterval, [this] { showProgress(); });
  }
  io::Timer deadlineTimer(loop_);
  deadlineTimer.arm(deadline, [this] { startDraining(); });
  io::Timer drainTimer(loop_);
  drainTimer.arm(deadline + kDrainTimeout, [this] { failUndrained(); });
  loop_.run();
  double elapsed = std::chrono::duration<double>(io::Clock::now() - start_).count();
  progressTimer_.cancel();  // deadlineTimer and drainTimer cancel as they go out of scope
  progress_.finish();
  if (failure_) {
    return std::unexpected(*failure_);
  }
  return elapsed;
}

void ThroughputRun::onEvents(Stream& stream, uint32_t events) {
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
  ssize_t n = ::write(stream.fd.get(), chunk_.data(), chunk_.size());
  if (n > 0) {
    stream.bytes += static_cast<uint64_t>(n);
  } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
    fail(stream, io::systemError("write to the server"));
  }
}

void ThroughputRun::closeStream(Stream& stream) {
  loop_.unwatch(stream.fd.get());
  stream.fd.reset();
  stream.closed = true;
  if (--open_ == 0) {
    loop_.stop();
  }
}

void ThroughputRun::fail(Stream& stream, io::Error error) {
  if (!failure_) {
    failure_ = std::move(error);
  }
  closeStream(stream);
}

void ThroughputRun::startDraining() {
  for (Stream& stream : streams_) {
    if (!stream.closed) {
      stream.draining = true;
      ::shutdown(stream.fd.get(), SHUT_WR);
      loop_.modify(stream.fd.get(), EPOLLIN | EPOLLRDHUP);
    }
  }
}

void ThroughputRun::failUndrained() {
  for (Stream& stream : streams_) {
    if (!stream.closed) {
      fail(stream, io::Error{ETIMEDOUT, "the server did not close the stream after our FIN"});
    }
  }
}

uint64_t ThroughputRun::totalBytes() const {
  uint64_t total = 0;
  for (const Stream& stream : streams_) {
    total += stream.bytes;
  }
  return total;
}

void ThroughputRun::showProgress() {
  if (progress_.due()) {
    double elapsed = std::chrono::duration<double>(io::Clock::now() - start_).count();
    progress_.show(fmt::format("throughput: {:.1f} s, {:.2f} Gbit/s", elapsed,
                               static_cast<double>(totalBytes()) * 8 / elapsed / 1e9));
  }
  progressTimer_.armAfter(kProgressInterval, [this] { showProgress(); });
}

}  // namespace

io::Result<ThroughputResult> runThroughput(io::Loop& loop, const io::Address& server,
                                           double seconds, size_t streams, Progress& progress) {
  std::vector<Stream> all(streams);
  if (auto connected = connectEachNonBlocking(server, std::span(all)); !connected) {
    return std::unexpected(connected.error());
  }
  auto elapsed = ThroughputRun(loop, all, progress).run(seconds);
  if (!elapsed) {
    return std::unexpected(elapsed.error());
  }
  ThroughputResult result;
  result.streams = streams;
  result.seconds = *elapsed;
  for (const Stream& stream : all) {
    result.bytes += stream.bytes;
  }
  result.gigabitsPerSecond = static_cast<double>(result.bytes) * 8 / *elapsed / 1e9;
  return result;
}

}  // namespace ferry::bench
