#pragma once

#include <cstddef>
#include <vector>

#include "io/Clock.h"

namespace ferry::bench {

/// Collects round-trip samples and answers mean and percentiles (nearest-rank method).
class LatencyStats {
 public:
  void reserve(size_t count) { samplesNs_.reserve(count); }
  void add(io::Duration sample) {
    samplesNs_.push_back(sample.count());
    sorted_ = false;
  }
  size_t count() const { return samplesNs_.size(); }

  /// Mean in nanoseconds; 0 when empty.
  double meanNs() const;
  /// The smallest sample that at least `percent` % of the samples do not exceed (nearest rank),
  /// in nanoseconds; 0 when empty. `percent` is clamped to [0, 100].
  double percentileNs(double percent) const;

 private:
  // Sorted lazily by percentileNs(); mutable because sorting does not change the set.
  mutable std::vector<long long> samplesNs_;
  mutable bool sorted_ = false;
};

}  // namespace ferry::bench
