#include "mux/Credit.h"

#include <algorithm>

namespace ferry::mux {

uint64_t ReceiveWindow::onReturn(const CreditLimits& limits, const CreditReturn& credit) {
  bool senderRanDry = credit.lowestPeerCredit < size_ / 4;
  if (!senderRanDry || !credit.outputDrained) {
    limitedBytes_ = 0;
    return 0;
  }
  limitedBytes_ += credit.increment;
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
