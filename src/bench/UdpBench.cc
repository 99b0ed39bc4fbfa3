#include "bench/UdpBench.h"

#include <poll.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "bench/LatencyStats.h"
#include "bench/Report.h"
#include "io/Clock.h"
#include "io/Socket.h"
#include "io/Udp.h"

namespace ferry::bench {
namespace {

constexpr int kReplyTimeoutMs = 1000;
constexpr int kWriteOffMs = 100;
constexpr size_t kSendBurst = 32;

bool waitReadable(int fd, int timeoutMs) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, timeoutMs) > 0;
}

/// A datagram of `size` bytes (at least 8) carrying `number` first, then a pattern of it.
void fillDatagram(std::vector<uint8_t>& bytes, size_t size, uint64_t number) {
  bytes.resize(std::max<size_t>(size, sizeof number));
  std::memcpy(bytes.data(), &number, sizeof number);
  for (size_t i = sizeof number; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(number + i);
  }
}

/// Waits for the echo of `sent` (older replies are skipped); false after kReplyTimeoutMs.
bool awaitEcho(int fd, std::span<const uint8_t> sent) {
  io::TimePoint deadline = io::Clock::now() + std::chrono::milliseconds(kReplyTimeoutMs);
  std::vector<uint8_t> reply(sent.size() + 1);
  while (io::Clock::now() < deadline) {
    ssize_t n = ::recv(fd, reply.data(), reply.size(), MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(sent.size()) &&
        std::memcmp(reply.data(), sent.data(), sent.size()) == 0) {
      return true;
    }
    if (n < 0) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - io::Clock::now());
      waitReadable(fd, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    }
  }
  return false;
}

}  // namespace

UdpEchoServer::~UdpEchoServer() {
  if (socket_) {
    loop_.unwatch(socket_.get());
  }
}

io::Result<io::Address> UdpEchoServer::listen(const io::Address& address) {
  auto socket = io::bindUdp(address);
  if (!socket) {
    return std::unexpected(socket.error());
  }
  socket_ = std::move(*socket);
  loop_.watch(socket_.get(), EPOLLIN, [this](uint32_t) { onReadable(); });
  return io::localAddress(socket_.get());
}

void UdpEchoServer::onReadable() {
  io::RecvBatch& batch = io::RecvBatch::shared();
  auto count = batch.receive(socket_.get());
  if (!count) {
    return;
  }
  io::SendBatch replies;
  for (size_t i = 0; i < *count; ++i) {
    io::RecvBatch::Message message = batch.message(i);
    if (replies.full(message.payload.size())) {
      replies.flush();
    }
    io::Address from(message.from, message.fromLength);
    replies.add(socket_.get(), &from, message.payload);
  }
  replies.flush();
}

std::vector<UdpEchoRow> runUdpEcho(int socket, std::span<const size_t> sizes, size_t count) {
  std::vector<UdpEchoRow> rows;
  std::vector<uint8_t> datagram;
  uint64_t number = 0;
  for (size_t size : sizes) {
    LatencyStats stats;
    stats.reserve(count);
    UdpEchoRow row{size, 0, 0, 0, 0};
    for (size_t i = 0; i < count; ++i) {
      fillDatagram(datagram, size, ++number);
      io::TimePoint start = io::Clock::now();
      if (::send(socket, datagram.data(), datagram.size(), 0) < 0 || !awaitEcho(socket, datagram)) {
        row.lost++;
        continue;
      }
      stats.add(io::Clock::now() - start);
    }
    row.avgMs = stats.meanNs() / 1e6;
    row.p50Us = stats.percentileNs(50) / 1e3;
    row.p99Us = stats.percentileNs(99) / 1e3;
    rows.push_back(row);
  }
  return rows;
}

UdpRateResult runUdpRate(int fd, size_t size, size_t count, size_t window) {
  io::RecvBatch& batch = io::RecvBatch::shared();
  io::SendBatch burst;
  std::vector<uint8_t> datagram;
  size_t sent = 0;
  size_t received = 0;
  size_t writtenOff = 0;
  io::TimePoint start = io::Clock::now();
  io::TimePoint lastReply = start;
  // Each pass sends or waits at most kWriteOffMs, and a silent wait writes every outstanding
  // datagram off, so the loop ends after at most count / 1 passes that make progress.
  while (sent < count || (received + writtenOff < sent)) {
    size_t inFlight = sent - std::min(sent, received + writtenOff);
    size_t room = std::min({window - std::min(window, inFlight), count - sent, kSendBurst});
    for (size_t i = 0; i < room; ++i) {
      fillDatagram(datagram, size, sent + i);
      burst.add(fd, nullptr, datagram);
    }
    sent += room;
    burst.flush();
    if (!waitReadable(fd, kWriteOffMs)) {
      writtenOff = sent - std::min(sent, received);
      continue;
    }
    for (auto got = batch.receive(fd); got && *got > 0; got = batch.receive(fd)) {
      received += *got;
      lastReply = io::Clock::now();
    }
  }
  UdpRateResult result{size, sent, std::min(received, sent), 0, 0, 0};
  result.seconds = std::chrono::duration<double>(lastReply - start).count();
  result.packetsPerSecond = result.seconds > 0 ? result.received / result.seconds : 0;
  result.lossPercent = 100.0 * static_cast<double>(sent - result.received) / sent;
  return result;
}

std::string formatUdpEcho(const std::string& mode, std::span<const UdpEchoRow> rows) {
  std::string text = fmt::format("Mode: {} (udp echo)\n", mode);
  for (const UdpEchoRow& row : rows) {
    text += fmt::format("{}\t{:.4f}\t{:.1f}\t{:.1f}\tlost={}\n", row.size, row.avgMs, row.p50Us,
                        row.p99Us, row.lost);
  }
  return text;
}

std::string formatUdpRate(std::span<const UdpRateResult> results) {
  std::string text;
  for (const UdpRateResult& r : results) {
    text += fmt::format("udp size={}\tpkts/s={:.0f}\tsent={}\treceived={}\tloss%={:.3f}\n", r.size,
                        r.packetsPerSecond, r.sent, r.received, r.lossPercent);
  }
  return text;
}

/// "[\n  ITEM,\n  ITEM\n]" with each item written by `format`.
template <typename Item, typename Format>
std::string jsonArray(std::span<const Item> items, Format format) {
  std::string text = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    text += (i ? ",\n  " : "\n  ") + format(items[i]);
  }
  return text + "\n]";
}

std::string udpJson(const std::string& mode, std::span<const UdpEchoRow> rows,
                    std::span<const UdpRateResult> rates) {
  std::string echo = jsonArray(rows, [](const UdpEchoRow& r) {
    return fmt::format(
        "{{\"size\": {}, \"avg_ms\": {:.4f}, \"p50_us\": {:.1f}, \"p99_us\": {:.1f}, \"lost\": "
        "{}}}",
        r.size, r.avgMs, r.p50Us, r.p99Us, r.lost);
  });
  std::string rate = jsonArray(rates, [](const UdpRateResult& r) {
    return fmt::format(
        "{{\"size\": {}, \"pkts_per_s\": {:.0f}, \"sent\": {}, \"received\": {}, "
        "\"loss_percent\": {:.4f}}}",
        r.size, r.packetsPerSecond, r.sent, r.received, r.lossPercent);
  });
  return fmt::format("{{\"bench\": \"udp\", \"mode\": {}, \"echo\": {}, \"rate\": {}}}\n",
                     jsonString(mode), echo, rate);
}

}  // namespace ferry::bench
