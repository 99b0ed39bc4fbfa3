#include "mux/Credit.h"

#include <algorithm>

namespace ferry::mux {

uint64_t ReceiveWindow::onReturn(const CreditLimits& limits, const CreditReturn& credit) {
  if (!credit.outputDrained) {
    // The destination is (also) a limit now: the evidence halves, so one slow moment of a fast
    // destination costs little while a stalled one (every return like this) soon has none.
    limitedBytes_ /= 2;
    return 0;
  }
  bool senderRanDry = credit.senderBlocked || credit.lowestPeerCredit < size_ / 4;
  if (!senderRanDry) {
    return 0;  // the sender was slower than the credit: no evidence either way
  }
  limitedBytes_ += credit.senderBlocked ? kLimitedWindows * size_ : credit.increment;
  if (limitedBytes_ < kLimitedWindows * size_ || size_ >= limits.maxWindow) {
    return 0;
  }
  uint64_t room = credit.committed < limits.sessionCap ? limits.sessionCap - credit.committed : 0;
  uint64_t growth = std::min({size_, limits.maxWindow - size_, room});
  size_ += growth;
  limitedBytes_ = 0;
  return growth;
}

}  // namespace ferry::mux
