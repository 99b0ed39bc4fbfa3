#include "forward/UdpOutbox.h"

namespace ferry::forward {

void UdpOutbox::add(int fd, const io::Address* to, std::span<const uint8_t> payload) {
  if (batch_.full(payload.size())) {
    flush();
  }
  batch_.add(fd, to, payload);
  flushHook_.request();
}

void UdpOutbox::flush() {
  if (batch_.empty()) {
    return;
  }
  io::SendBatch::Flushed flushed = batch_.flush();
  stats_.received += flushed.sent;
  stats_.dropped += flushed.dropped;
  stats_.gsoSends += flushed.segmented;
}

void UdpOutbox::release(int fd) {
  flush();
  batch_.forget(fd);
}

}  // namespace ferry::forward
