#include "carrier/dir/ReadSize.h"

#include <algorithm>
#include <bit>

namespace ferry::carrier::dir {

void ReadSize::after(bool full, uint64_t used, bool refused) {
  usedInRun_ += used;
  if (refused && usedInRun_ == 0) {
    // Nothing new at all (a wake-up for bytes an earlier read took): no measure of the traffic,
    // so only decay, and an idle lane ends at kMin after a few such reads. Where each read is a
    // round trip (and copies stale bytes over the network) straight to kMin: a busy lane is back
    // at the largest size after 3 full reads there.
    size_ = growth_ > 2 ? kMin : std::max(size_ / 2, kMin);
  } else if (refused) {
    // The rest of the read was stale bytes of a reused file (or a torn tail): the next wake-up
    // reads about as much as this run of reads found, not a whole stale segment.
    size_ = std::clamp<size_t>(std::bit_ceil(usedInRun_), kMin, max_);
    usedInRun_ = 0;
  } else if (full) {
    size_ = std::min(size_ * growth_, max_);
  } else {
    usedInRun_ = 0;  // the lane's end: the next wake-up starts a new run
  }
}

}  // namespace ferry::carrier::dir
