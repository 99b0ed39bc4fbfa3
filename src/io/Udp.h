#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_set>
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

/// Asks the kernel to hand over same-size datagrams of one flow as one buffer (UDP_GRO, Linux
/// 5.0+); false where it cannot. Read such a socket with RecvBatch::drain, which splits the
/// buffers again (forEachSegment), so its callers still see one datagram at a time.
bool enableUdpGro(int fd);

/// Calls `onSegment(bytes)` for each datagram of a received buffer: the whole buffer when
/// `segmentSize` is 0 (not coalesced), else pieces of `segmentSize` bytes, the last one possibly
/// shorter (the kernel coalesces only runs of one size, ended by at most one shorter datagram).
template <typename OnSegment>
void forEachSegment(std::span<const uint8_t> buffer, size_t segmentSize, OnSegment&& onSegment) {
  if (segmentSize == 0 || buffer.size() <= segmentSize) {
    onSegment(buffer);
    return;
  }
  for (size_t offset = 0; offset < buffer.size(); offset += segmentSize) {
    onSegment(buffer.subspan(offset, std::min(segmentSize, buffer.size() - offset)));
  }
}

/// Receives datagrams in batches with recvmmsg (seed 003: syscalls dominate under load). One
/// batch per thread is enough on an event loop: a batch is consumed before the next receive.
class RecvBatch {
 public:
  /// Twice a sender's usual sendmmsg batch (32): a drain whose first call comes back short needs
  /// no second one, and a burst of 32 comes back short. Virtual memory: slots nothing lands in
  /// are never touched.
  static constexpr size_t kSlots = 64;
  static constexpr size_t kSlotBytes = 65536;  // any UDP datagram, or GRO buffer, fits

  struct Message {
    std::span<const uint8_t> payload;
    const sockaddr* from;
    socklen_t fromLength;
    /// With UDP_GRO on: the size of each datagram `payload` holds (0: it is one datagram).
    size_t segmentSize = 0;
  };

  /// The calling thread's batch.
  static RecvBatch& shared();

  /// Reads up to kSlots datagrams (or GRO buffers) from `fd`; 0 when none is queued. Errors are
  /// the socket's (e.g. ECONNREFUSED on a connected socket after an ICMP port unreachable).
  Result<size_t> receive(int fd);
  Message message(size_t index) const;

  /// Receives from `fd` with up to `maxCalls` recvmmsg calls, calling `onMessage(message)` for
  /// each datagram (a GRO buffer split into its datagrams); stops early once a call comes back
  /// short (the socket is drained), so an idle socket costs one call per wake-up. Errors (an ICMP
  /// report on a connected socket) end the round quietly: UDP goes on. Returns how many buffers
  /// held more than one datagram.
  template <typename OnMessage>
  size_t drain(int fd, size_t maxCalls, OnMessage&& onMessage) {
    size_t coalesced = 0;
    for (size_t call = 0; call < maxCalls; ++call) {
      auto count = receive(fd);
      for (size_t i = 0; count && i < *count; ++i) {
        Message whole = message(i);
        coalesced += whole.payload.size() > whole.segmentSize && whole.segmentSize > 0 ? 1 : 0;
        forEachSegment(whole.payload, whole.segmentSize, [&](std::span<const uint8_t> datagram) {
          onMessage(Message{datagram, whole.from, whole.fromLength, 0});
        });
      }
      if (!count || *count < kSlots) {
        return coalesced;
      }
    }
    return coalesced;
  }

 private:
  RecvBatch();
  // Allocated once and never zeroed: only the bytes datagrams land in are ever touched.
  std::unique_ptr<uint8_t[]> buffer_;
  std::array<mmsghdr, kSlots> headers_{};
  std::array<iovec, kSlots> vectors_{};
  std::array<sockaddr_storage, kSlots> sources_{};
  struct alignas(cmsghdr) Control {
    uint8_t bytes[CMSG_SPACE(sizeof(int))];
  };
  std::array<Control, kSlots> controls_{};
  std::array<size_t, kSlots> segmentSizes_{};
};

/// Datagrams waiting to be sent at the end of a tick, batched with sendmmsg per socket. Bounded:
/// the owner flushes when full() before adding more, so nothing is buffered without limit.
/// With Offload::Segment, consecutive datagrams of one size to one destination (the last may be
/// shorter) leave as one message with UDP_SEGMENT (GSO, Linux 4.18+): the kernel cuts them up,
/// the receiver still gets separate datagrams. A socket whose kernel refuses that (EINVAL, EIO,
/// ENOPROTOOPT) gets plain datagrams from then on.
class SendBatch {
 public:
  static constexpr size_t kMaxMessages = 64;
  static constexpr size_t kMaxBytes = 128 * 1024;
  /// Datagrams in one UDP_SEGMENT send (the kernel's UDP_MAX_SEGMENTS before Linux 6.9 is 64)
  /// and their bytes (an IPv4 datagram's payload limit: the kernel sends them as one first).
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxSegmentBytes = 65507;
  /// A UDP_SEGMENT size a kernel refuses only for lack of support: fits a 1280-byte IPv6 path.
  static constexpr size_t kSegmentFitsAnyPath = 1232;

  enum class Offload { None, Segment };

  struct Flushed {
    size_t sent = 0;
    size_t dropped = 0;    // the socket's buffer was full (EAGAIN) or it reported an error
    size_t segmented = 0;  // sends with UDP_SEGMENT that carried several datagrams
  };

  explicit SendBatch(Offload offload = Offload::None) : offload_(offload) {}

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
  /// Forgets what was learnt about `fd` (that it refuses UDP_SEGMENT); call it when closing the
  /// socket, whose number may come back for another.
  void forget(int fd) { refusesSegments_.erase(fd); }

 private:
  struct Queued {
    int fd;
    bool addressed;
    Address to;
    size_t offset;
    size_t length;
  };
  /// Datagrams [first, first + count) of messages_ leaving in one message.
  struct Group {
    size_t first;
    size_t count;
  };
  struct alignas(cmsghdr) Control {
    uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
  };

  size_t sendRun(size_t first, size_t end, Flushed& flushed);
  bool sameDestination(const Queued& a, const Queued& b) const;
  /// The end of the group that starts at `first`: first + 1 when it cannot be segmented.
  size_t groupEnd(size_t first, size_t end, bool segment) const;
  /// Fills groups_, headers_, vectors_ and controls_ for messages [first, end) of one socket.
  void prepare(size_t first, size_t end, bool segment);
  /// Datagrams in groups_[from, to).
  size_t datagrams(size_t from, size_t to) const;

  Offload offload_;
  std::unordered_set<int> refusesSegments_;
  std::vector<Queued> messages_;
  std::vector<uint8_t> payload_;
  std::vector<Group> groups_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> vectors_;
  std::vector<Control> controls_;
};

}  // namespace ferry::io
