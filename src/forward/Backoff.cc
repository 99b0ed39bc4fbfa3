#include "forward/Backoff.h"

#include <algorithm>

namespace ferry::forward {

io::Duration Backoff::next() {
  std::uniform_real_distribution<double> factor(1.0 - kJitter, 1.0 + kJitter);
  auto delay = std::chrono::duration_cast<io::Duration>(base_ * factor(random_));
  base_ = std::min(base_ * 2, kMax);
  return std::min(delay, kMax);
}

}  // namespace ferry::forward
