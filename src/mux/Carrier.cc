#include "mux/Carrier.h"

namespace ferry::mux {

std::span<uint8_t> Carrier::reserve(proto::FrameType type, uint32_t stream, size_t max) {
  reservedType_ = type;
  reservedStream_ = stream;
  reserved_.resize(max);
  return reserved_;
}

void Carrier::commit(size_t n) {
  if (n > 0) {
    send(reservedType_, reservedStream_, std::span<const uint8_t>(reserved_).first(n));
  }
}

}  // namespace ferry::mux
