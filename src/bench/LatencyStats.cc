#include "bench/LatencyStats.h"

#include <algorithm>
#include <cmath>

namespace ferry::bench {

double LatencyStats::meanNs() const {
  if (samplesNs_.empty()) {
    return 0;
  }
  long double total = 0;
  for (long long sample : samplesNs_) {
    total += sample;
  }
  return static_cast<double>(total / samplesNs_.size());
}

double LatencyStats::percentileNs(double percent) const {
  if (samplesNs_.empty()) {
    return 0;
  }
  if (!sorted_) {
    std::sort(samplesNs_.begin(), samplesNs_.end());
    sorted_ = true;
  }
  percent = std::clamp(percent, 0.0, 100.0);
  // Nearest rank: ceil(p/100 * n), 1-based, at least 1.
  auto rank = static_cast<size_t>(std::ceil(percent / 100.0 * samplesNs_.size()));
  rank = std::clamp<size_t>(rank, 1, samplesNs_.size());
  return static_cast<double>(samplesNs_[rank - 1]);
}

}  // namespace ferry::bench
