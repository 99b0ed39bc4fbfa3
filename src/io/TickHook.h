#pragma once

#include <cstddef>
#include <cstdint>

#include "io/Loop.h"

namespace ferry::io {

/// An end-of-tick callback an object registers once and requests whenever it has work to batch:
/// however often request() is called in a tick, the callback runs once, in the loop's deferred
/// phase (in the order of the first request among the other deferred callbacks). Destroying the
/// hook unregisters a pending request, so the callback never runs on a dead owner: no weak_ptr
/// guard needed. request() is O(1) and allocates nothing once the loop's queue has grown.
///
/// Embedded in its owner and neither copyable nor movable: the loop refers to it by address
/// while it is requested. Must not outlive its loop.
class TickHook {
 public:
  TickHook(Loop& loop, Loop::Callback callback) : loop_(loop), callback_(std::move(callback)) {}
  ~TickHook() { cancel(); }
  TickHook(const TickHook&) = delete;
  TickHook& operator=(const TickHook&) = delete;

  /// Runs the callback at the end of this tick (or of the batch running now, if the loop is in
  /// its deferred phase: the callback may request its own hook again).
  void request();
  /// Withdraws a pending request; no-op if none.
  void cancel();
  bool requested() const { return requested_; }

 private:
  friend class Loop;
  /// Called by the loop. The callback may destroy the hook (its owner) as its last action: like
  /// `delete this`, nothing may touch the callback's captures afterwards, which a
  /// `[this] { method(); }` callback does not.
  void run() {
    requested_ = false;
    callback_();
  }
  std::vector<Loop::Deferred>& queue();

  Loop& loop_;
  Loop::Callback callback_;
  bool requested_ = false;
  // Where the pending request sits: entry `slot_` of the loop's queue of round `round_`.
  uint64_t round_ = 0;
  size_t slot_ = 0;
};

}  // namespace ferry::io
