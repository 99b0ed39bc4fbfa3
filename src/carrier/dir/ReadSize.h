#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry::carrier::dir {

/// The size of a lane reader's next read, pure logic. Reused segment files hold stale bytes past
/// what the writer wrote in this round, so a read "to EOF" would copy up to a whole stale segment
/// per wake-up: reads start at kMin and grow while each comes back full and the parser refuses
/// none of it; after a read whose rest the parser refused (stale, torn or garbage) the next one
/// asks for about what the reads since the last short or refused one used (a busy lane's
/// wake-up ends in such a read: asking for only what that last read used would start every
/// wake-up at kMin again and spend 5 reads where 1 does); a refused read that used nothing halves
/// the size (locally) or drops it to kMin (round trips). Where each read is a round trip to a
/// server (remote and FUSE file systems: an O_DIRECT read, or open + getattr + read + release) the
/// size grows 8-fold per full read instead of 2-fold, so that a busy lane is back at the largest
/// request after 3 reads instead of 8 (the refusal is routine there: the reader finds a new segment
/// with only its header written, in front of the stale bytes of a reused file).
class ReadSize {
 public:
  static constexpr size_t kMin = 4096;

  /// `max`: the largest request; `roundTrips`: reads are round trips (grow 8-fold).
  ReadSize(size_t max, bool roundTrips) : max_(max), growth_(roundTrips ? 8 : 2) {}

  size_t next() const { return size_; }
  /// After a read that returned as many bytes as asked for (`full`) or fewer, of which the parser
  /// used `used` bytes and refused the rest (`refused`) or kept it.
  void after(bool full, uint64_t used, bool refused);

 private:
  size_t max_;
  size_t growth_;
  size_t size_ = kMin;
  uint64_t usedInRun_ = 0;  // bytes used by the full reads since the last short or refused one
};

}  // namespace ferry::carrier::dir
