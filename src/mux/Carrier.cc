#include "mux/Carrier.h"

#include "io/Bug.h"

namespace ferry::mux {

std::span<uint8_t> Carrier::reserve(proto::FrameType type, uint32_t stream, size_t max) {
  reservedType_ = type;
  reservedStream_ = stream;
  reserved_.resize(max);
  return reserved_;
}

void Carrier::commit(size_t n) {
  FERRY_CHECK(n <= reserved_.size(), "commit of {} bytes into a reserved room of {}", n,
              reserved_.size());
  if (n > 0) {
    send(reservedType_, reservedStream_, std::span<const uint8_t>(reserved_).first(n));
  }
}

}  // namespace ferry::mux
