#pragma once

#include <cstdint>

namespace ferry::mux {

/// The bounds of receiver-driven credit auto-tuning (see docs/protocol.md, Credit).
struct CreditLimits {
  uint64_t maxWindow = 0;   // a stream's window never grows beyond this
  uint64_t sessionCap = 0;  // bytes held for sockets + credit granted and unused, all streams
};

/// What the receiver of one stream knows when it returns credit.
struct CreditReturn {
  uint64_t increment = 0;         // credit owed and about to be returned
  uint64_t lowestPeerCredit = 0;  // least credit the peer had left (as seen here) since the
                                  // previous return: how far the sender ran into its window
  bool outputDrained = false;     // everything received was written to the socket
  uint64_t committed = 0;         // the session's bytes held for sockets plus credit granted and
                                  // unused, over all streams, this increment included
  bool senderBlocked = false;     // the peer sent Blocked since the previous return
};

/// One stream's receive window under auto-tuning. The stream is limited by credit rather than by
/// its destination at a return when the sender used more than 3/4 of the window before credit
/// came back and the destination still took every byte at once. Once such returns add up to
/// kLimitedWindows windows' worth of bytes, the window doubles. A return after the sender said
/// Blocked (it had bytes and no credit) while the destination took every byte doubles the window
/// at once, like TCP's slow start: on a carrier whose reader sees credit late (a polled share),
/// the receiver's own count shows the sender far from dry although it waits. Each return that left
/// bytes waiting for the socket halves the sum (so a destination that stopped reading grows the
/// window only while its kernel buffers absorb several windows). The window never grows above
/// limits.maxWindow, nor the session's committed bytes above limits.sessionCap. Returns where the
/// sender did not run dry count for nothing either way.
class ReceiveWindow {
 public:
  static constexpr uint64_t kLimitedWindows = 4;

  explicit ReceiveWindow(uint64_t initial) : size_(initial) {}
  uint64_t size() const { return size_; }
  /// Called at each credit return; returns by how much the window grew (add it to the increment).
  uint64_t onReturn(const CreditLimits& limits, const CreditReturn& credit);
  /// Back to `initial` (an idle stream), forgetting the evidence gathered so far.
  void reset(uint64_t initial) {
    size_ = initial;
    limitedBytes_ = 0;
  }

 private:
  uint64_t size_;
  uint64_t limitedBytes_ = 0;  // bytes returned in a row at returns limited by credit
};

}  // namespace ferry::mux
