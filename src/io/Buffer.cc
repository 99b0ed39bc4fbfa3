#include "io/Buffer.h"

#include <unistd.h>

#include <algorithm>

#include "io/Bug.h"

namespace ferry::io {
namespace {
constexpr size_t kSpillSize = 64 * 1024;
// An empty buffer keeps up to this much capacity: a stream moving 256 KiB per tick (its window)
// would otherwise free and regrow (and page-fault) its buffer every tick.
constexpr size_t kIdleCapacity = 512 * 1024;
}  // namespace

void Buffer::consume(size_t n) {
  if (n >= readable()) {
    clear();
  } else {
    readIndex_ += n;
  }
}

void Buffer::prepend(const void* bytes, size_t n) {
  FERRY_CHECK(n <= prependable(), "prepend of {} bytes, {} prependable", n, prependable());
  readIndex_ -= n;
  std::memcpy(storage_.get() + readIndex_, bytes, n);
}

uint8_t* Buffer::prepareWrite(size_t n) {
  if (writeIndex_ + n > capacity_) {
    makeSpace(n);
  }
  return storage_.get() + writeIndex_;
}

void Buffer::makeSpace(size_t n) {
  size_t used = readable();
  if (capacity_ >= kPrependSize + used + n && used < capacity_ / 2) {
    // Enough room overall: slide the readable bytes back to the prepend mark.
    std::memmove(storage_.get() + kPrependSize, data(), used);
  } else {
    size_t size = std::max(capacity_ * 2, kPrependSize + used + n);
    auto grown = std::make_unique_for_overwrite<uint8_t[]>(size);
    if (used > 0) {
      std::memcpy(grown.get() + kPrependSize, data(), used);
    }
    storage_ = std::move(grown);
    capacity_ = size;
  }
  readIndex_ = kPrependSize;
  writeIndex_ = kPrependSize + used;
}

ssize_t Buffer::readFrom(int fd, size_t maxBytes) {
  // Read into the tail first and spill into the stack, so a small buffer is not grown up front
  // for a read that turns out short.
  uint8_t spill[kSpillSize];
  if (capacity_ == 0) {
    prepareWrite(kInitialSize);  // a moved-from buffer
  }
  size_t tail = std::min(capacity_ - writeIndex_, maxBytes);
  iovec vec[2] = {{storage_.get() + writeIndex_, tail},
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
  if (empty() && capacity_ > kPrependSize + kIdleCapacity) {
    storage_ = std::make_unique_for_overwrite<uint8_t[]>(kPrependSize + kInitialSize);
    capacity_ = kPrependSize + kInitialSize;
    clear();
  }
}

}  // namespace ferry::io
