#pragma once

#include <span>

#include "forward/UdpFlowTable.h"
#include "io/Loop.h"
#include "io/TickHook.h"
#include "io/Udp.h"

namespace ferry::forward {

/// Datagrams from the peer on their way to local UDP sockets: batched within a loop tick and
/// sent at its end with sendmmsg, runs of one size to one destination as one UDP_SEGMENT
/// message (sooner when the bounded batch fills). Counts what the sockets took as `received`,
/// what they refused as `dropped` and the segmented sends as `gsoSends`.
class UdpOutbox {
 public:
  UdpOutbox(io::Loop& loop, UdpStats& stats)
      : stats_(stats), flushHook_(loop, [this] { flush(); }) {}
  UdpOutbox(const UdpOutbox&) = delete;
  UdpOutbox& operator=(const UdpOutbox&) = delete;

  /// Queues `payload` for `fd` (to `to`, or nullptr on a connected socket).
  void add(int fd, const io::Address* to, std::span<const uint8_t> payload);
  /// Sends what is queued now; call it before closing a socket that may have datagrams queued.
  void flush();
  /// Sends what is queued now and forgets `fd`, which its owner closes next.
  void release(int fd);

 private:
  UdpStats& stats_;
  io::SendBatch batch_{io::SendBatch::Offload::Segment};
  io::TickHook flushHook_;
};

}  // namespace ferry::forward
