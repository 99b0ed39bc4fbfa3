#include "carrier/dir/ReadSize.h"

#include <algorithm>
#include <bit>

namespace ferry::carrier::dir {

void ReadSize::after(bool full, uint64_t used, bool refused) {
  if (refused) {
    // The rest of the read was stale bytes of a reused file (or a torn tail): the next wake-up
    // reads about as much as this one found, not a whole stale segment.
    size_ = std::clamp<size_t>(std::bit_ceil(std::max<uint64_t>(used, 1)), kMin, max_);
  } else if (full) {
    size_ = std::min(size_ * growth_, max_);
  }
}

}  // namespace ferry::carrier::dir
