#include "mux/RoundTrips.h"

#include <algorithm>

namespace ferry::mux {

void RoundTrips::add(io::Duration roundTrip) {
  double seconds = std::chrono::duration<double>(roundTrip).count();
  auto bucket = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  if (bucket != kBounds.end()) {
    buckets[static_cast<size_t>(bucket - kBounds.begin())]++;
  }
  count++;
  sumSeconds += seconds;
}

void RoundTrips::merge(const RoundTrips& more) {
  for (size_t i = 0; i < buckets.size(); i++) {
    buckets[i] += more.buckets[i];
  }
  count += more.count;
  sumSeconds += more.sumSeconds;
}

}  // namespace ferry::mux
