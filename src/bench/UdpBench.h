#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "io/Address.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"

namespace ferry::bench {

/// Sends every datagram back to its sender, batched (recvmmsg, sendmmsg).
class UdpEchoServer {
 public:
  explicit UdpEchoServer(io::Loop& loop) : loop_(loop) {}
  ~UdpEchoServer();
  io::Result<io::Address> listen(const io::Address& address);

 private:
  void onReadable();
  io::Loop& loop_;
  io::Fd socket_;
};

/// One row of the UDP echo table.
struct UdpEchoRow {
  size_t size = 0;
  double avgMs = 0;
  double p50Us = 0;
  double p99Us = 0;
  size_t lost = 0;  // round trips whose reply did not come within 1 s
};

/// For each size, `count` sequential round trips of one datagram (its number in the first bytes)
/// on `socket`, a UDP socket connected to an echo: the reply must carry the same bytes. The
/// runs share one socket (one source address), so a relay that serves only its first peer
/// (socat UDP-LISTEN) carries them all.
std::vector<UdpEchoRow> runUdpEcho(int socket, std::span<const size_t> sizes, size_t count);

struct UdpRateResult {
  size_t size = 0;
  size_t sent = 0;
  size_t received = 0;
  double seconds = 0;
  double packetsPerSecond = 0;  // echoes received per second
  double lossPercent = 0;
};

/// Sends `count` datagrams of `size` bytes on `socket` (connected to an echo) with at most `window`
/// in flight (a reply frees a slot; 100 ms without any reply writes the outstanding ones off), in
/// sendmmsg batches: the echo packet rate a path sustains and the loss at that rate.
UdpRateResult runUdpRate(int socket, size_t size, size_t count, size_t window);

std::string formatUdpEcho(const std::string& mode, std::span<const UdpEchoRow> rows);
std::string formatUdpRate(std::span<const UdpRateResult> results);
std::string udpJson(const std::string& mode, std::span<const UdpEchoRow> rows,
                    std::span<const UdpRateResult> rates);

}  // namespace ferry::bench
