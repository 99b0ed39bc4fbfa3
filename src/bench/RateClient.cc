#include "bench/RateClient.h"

#include <sys/socket.h>

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "bench/BlockingIo.h"
#include "bench/Pattern.h"
#include "io/Clock.h"

namespace ferry::bench {
namespace {

constexpr auto kIoTimeout = std::chrono::seconds(30);

}  // namespace

io::Result<RateResult> runRate(const io::Address& server, size_t size, size_t count, size_t batch,
                               Progress& progress) {
  auto connected = connectWithTimeout(server, kIoTimeout);
  if (!connected) {
    return std::unexpected(connected.error());
  }
  int fd = connected->get();
  std::vector<uint8_t> messages(size * batch);
  fillPattern(messages, patternSeed(size, batch));

  io::TimePoint start = io::Clock::now();
  size_t sent = 0;
  while (sent < count) {
    size_t now = std::min(batch, count - sent);
    if (auto written = writeAll(fd, std::span(messages).first(now * size)); !written) {
      return std::unexpected(written.error());
    }
    sent += now;
    if (progress.due()) {
      progress.show(fmt::format("rate batch={}: {}/{} messages", batch, sent, count));
    }
  }
  ::shutdown(fd, SHUT_WR);
  if (auto drained = readUntilEof(fd); !drained) {
    return std::unexpected(drained.error());
  }
  double seconds = std::chrono::duration<double>(io::Clock::now() - start).count();
  progress.finish();
  RateResult result;
  result.batch = batch;
  result.messages = count;
  result.size = size;
  result.seconds = seconds;
  result.messagesPerSecond = static_cast<double>(count) / seconds;
  result.megabytesPerSecond = static_cast<double>(count * size) / seconds / 1e6;
  return result;
}

}  // namespace ferry::bench
