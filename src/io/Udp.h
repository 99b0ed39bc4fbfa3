#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "io/Address.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::io {

/// Kernel buffer asked for on both sides of ferry's UDP sockets (the kernel caps it at
/// net.core.rmem_max / wmem_max): datagrams leave the tunnel in batches, and a burst must not
/// overflow the default ~208 KiB.
constexpr int kUdpSocketBuffer = 1 << 20;

/// A non-blocking UDP socket bound to `address`; the error names it ("port in use").
Result<Fd> bindUdp(const Address& address);
/// A non-blocking UDP socket connected to `address` (an ephemeral local port): it sends there
/// and receives only from there.
Result<Fd> connectUdp(const Address& address);

/// Receives datagrams in batches with recvmmsg (seed 003: syscalls dominate under load). One
/// batch per thread is enough on an event loop: a batch is consumed before the next receive.
class RecvBatch {
 public:
  static constexpr size_t kSlots = 32;
  static constexpr size_t kSlotBytes = 65536;  // any UDP datagram fits

  struct Message {
    std::span<const uint8_t> payload;
    const sockaddr* from;
    socklen_t fromLength;
  };

  /// The calling thread's batch.
  static RecvBatch& shared();

  /// Reads up to kSlots datagrams from `fd`; 0 when none is queued. Errors are the socket's
  /// (e.g. ECONNREFUSED on a connected socket after an ICMP port unreachable).
  Result<size_t> receive(int fd);
  Message message(size_t index) const;

  /// Receives from `fd` with up to `maxCalls` recvmmsg calls, calling `onMessage(message)` for
  /// each datagram; stops early once a call comes back short (the socket is drained), so an
  /// idle socket costs one call per wake-up. Errors (an ICMP report on a connected socket) end
  /// the round quietly: UDP goes on.
  template <typename OnMessage>
  void drain(int fd, size_t maxCalls, OnMessage&& onMessage) {
    for (size_t call = 0; call < maxCalls; ++call) {
      auto count = receive(fd);
      for (size_t i = 0; count && i < *count; ++i) {
        onMessage(message(i));
      }
      if (!count || *count < kSlots) {
        return;
      }
    }
  }

 private:
  RecvBatch();
  // Allocated once and never zeroed: only the bytes datagrams land in are ever touched.
  std::unique_ptr<uint8_t[]> buffer_;
  std::array<mmsghdr, kSlots> headers_{};
  std::array<iovec, kSlots> vectors_{};
  std::array<sockaddr_storage, kSlots> sources_{};
};

/// Datagrams waiting to be sent at the end of a tick, batched with sendmmsg per socket. Bounded:
/// the owner flushes when full() before adding more, so nothing is buffered without limit.
class SendBatch {
 public:
  static constexpr size_t kMaxMessages = 64;
  static constexpr size_t kMaxBytes = 128 * 1024;

  struct Flushed {
    size_t sent = 0;
    size_t dropped = 0;  // the socket's buffer was full (EAGAIN) or it reported an error
  };

  bool empty() const { return messages_.empty(); }
  /// True when `bytes` more would not fit (an empty batch takes any datagram).
  bool full(size_t bytes) const {
    return messages_.size() >= kMaxMessages ||
           (!messages_.empty() && payload_.size() + bytes > kMaxBytes);
  }
  /// Queues `payload` for `fd`, to `to` (nullptr on a connected socket). The payload is copied.
  void add(int fd, const Address* to, std::span<const uint8_t> payload);
  /// Sends everything, one sendmmsg per run of messages for the same socket. A datagram the
  /// socket does not take at once is dropped: UDP never waits.
  Flushed flush();

 private:
  struct Queued {
    int fd;
    bool addressed;
    Address to;
    size_t offset;
    size_t length;
  };
  size_t sendRun(size_t first, size_t end, Flushed& flushed);

  std::vector<Queued> messages_;
  std::vector<uint8_t> payload_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> vectors_;
};

}  // namespace ferry::io
