#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#include "io/Bug.h"

namespace ferry::io {

/// A contiguous byte queue with a prepend zone (so a header can go in front of a payload without a
/// copy) and helpers that read with readv (tail + 64 KiB stack spill) and write with write(2).
class Buffer {
 public:
  static constexpr size_t kPrependSize = 64;
  static constexpr size_t kInitialSize = 4096;

  Buffer()
      : storage_(std::make_unique_for_overwrite<uint8_t[]>(kPrependSize + kInitialSize)),
        capacity_(kPrependSize + kInitialSize),
        readIndex_(kPrependSize),
        writeIndex_(kPrependSize) {}
  /// A moved-from Buffer is empty and valid; it allocates again on the next write.
  Buffer(Buffer&& other) noexcept
      : storage_(std::move(other.storage_)),
        capacity_(std::exchange(other.capacity_, 0)),
        readIndex_(std::exchange(other.readIndex_, 0)),
        writeIndex_(std::exchange(other.writeIndex_, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    storage_ = std::move(other.storage_);
    capacity_ = std::exchange(other.capacity_, 0);
    readIndex_ = std::exchange(other.readIndex_, 0);
    writeIndex_ = std::exchange(other.writeIndex_, 0);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  size_t readable() const { return writeIndex_ - readIndex_; }
  bool empty() const { return readable() == 0; }
  const uint8_t* data() const { return storage_.get() + readIndex_; }
  uint8_t* data() { return storage_.get() + readIndex_; }
  std::span<const uint8_t> view() const { return {data(), readable()}; }
  size_t prependable() const { return readIndex_; }

  void consume(size_t n);
  void clear() { readIndex_ = writeIndex_ = capacity_ > 0 ? kPrependSize : 0; }

  void append(const void* bytes, size_t n) {
    std::memcpy(prepareWrite(n), bytes, n);
    commit(n);
  }
  void append(std::span<const uint8_t> bytes) { append(bytes.data(), bytes.size()); }
  /// Puts `n` bytes in front of the readable ones; needs n <= prependable().
  void prepend(const void* bytes, size_t n);

  /// Returns space for at least `n` bytes after the readable ones; commit() what was written.
  uint8_t* prepareWrite(size_t n);
  /// Needs n <= the space prepareWrite() returned: more would count bytes past the storage.
  void commit(size_t n) {
    FERRY_CHECK(n <= capacity_ - writeIndex_, "commit of {} bytes, {} prepared", n,
                capacity_ - writeIndex_);
    writeIndex_ += n;
  }

  /// The readable bytes as one iovec.
  iovec readableIovec() const { return {const_cast<uint8_t*>(data()), readable()}; }

  /// Reads at most `maxBytes` from `fd` with one readv. Returns bytes read, 0 at EOF, or -1 with
  /// errno set (EAGAIN when nothing is ready).
  ssize_t readFrom(int fd, size_t maxBytes);
  /// Writes the readable bytes with one write(2) and consumes what was written.
  ssize_t writeTo(int fd);

  /// Gives memory back when a large transient buffer has drained.
  void shrinkIfIdle();

 private:
  void makeSpace(size_t n);

  // Not value-initialised: growing a buffer must not cost a memset of its new capacity.
  std::unique_ptr<uint8_t[]> storage_;
  size_t capacity_;
  size_t readIndex_;
  size_t writeIndex_;
};

}  // namespace ferry::io
