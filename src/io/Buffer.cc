#include "io/Buffer.h"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace ferry::io {
namespace {
constexpr size_t kSpillSize = 64 * 1024;
constexpr size_t kIdleCapacity = 64 * 1024;
}  // namespace

void Buffer::consume(size_t n) {
  if (n >= readable()) {
    clear();
  } else {
    readIndex_ += n;
  }
}

void Buffer::prepend(const void* bytes, size_t n) {
  if (n > prependable()) {
    throw std::logic_error("Buffer::prepend beyond the prepend zone");
  }
  readIndex_ -= n;
  std::memcpy(storage_.data() + readIndex_, bytes, n);
}

uint8_t* Buffer::prepareWrite(size_t n) {
  if (storage_.size() - writeIndex_ < n) {
    makeSpace(n);
  }
  return storage_.data() + writeIndex_;
}

void Buffer::makeSpace(size_t n) {
  size_t used = readable();
  if (readIndex_ - kPrependSize + (storage_.size() - writeIndex_) >= n &&
      used < storage_.size() / 2) {
    // Enough room overall: slide the readable bytes back to the prepend mark.
    std::memmove(storage_.data() + kPrependSize, data(), used);
  } else {
    std::vector<uint8_t> grown(std::max(storage_.size() * 2, kPrependSize + used + n));
    std::memcpy(grown.data() + kPrependSize, data(), used);
    storage_.swap(grown);
  }
  readIndex_ = kPrependSize;
  writeIndex_ = kPrependSize + used;
}

ssize_t Buffer::readFrom(int fd, size_t maxBytes) {
  // Read into the tail first and spill into the stack, so a small buffer is not grown up front
  // for a read that turns out short.
  uint8_t spill[kSpillSize];
  size_t tail = std::min(storage_.size() - writeIndex_, maxBytes);
  iovec vec[2] = {{storage_.data() + writeIndex_, tail},
                  {spill, std::min(kSpillSize, maxBytes - tail)}};
  int count = (tail < maxBytes) ? 2 : 1;
  ssize_t n = ::readv(fd, vec, count);
  if (n <= 0) {
    return n;
  }
  auto got = static_cast<size_t>(n);
  if (got <= tail) {
    writeIndex_ += got;
  } else {
    writeIndex_ += tail;
    append(spill, got - tail);
  }
  return n;
}

ssize_t Buffer::writeTo(int fd) {
  ssize_t n = ::write(fd, data(), readable());
  if (n > 0) {
    consume(static_cast<size_t>(n));
  }
  return n;
}

void Buffer::shrinkIfIdle() {
  if (empty() && storage_.size() > kPrependSize + kIdleCapacity) {
    std::vector<uint8_t>(kPrependSize + kInitialSize).swap(storage_);
    clear();
  }
}

}  // namespace ferry::io
