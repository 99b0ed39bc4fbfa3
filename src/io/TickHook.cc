#include "io/TickHook.h"

namespace ferry::io {

void TickHook::request() {
  if (requested_) {
    return;
  }
  requested_ = true;
  round_ = loop_.deferredRound_;
  slot_ = loop_.deferred_.size();
  loop_.deferred_.push_back({nullptr, this});
}

void TickHook::cancel() {
  if (requested_) {
    queue()[slot_].hook = nullptr;
    requested_ = false;
  }
}

std::vector<Loop::Deferred>& TickHook::queue() {
  // A request waits in deferred_ until the loop moves that batch to running_ (starting a new
  // round), and leaves running_ only by running, so a pending one is in one of the two.
  return round_ == loop_.deferredRound_ ? loop_.deferred_ : loop_.running_;
}

}  // namespace ferry::io
