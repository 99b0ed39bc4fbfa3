#include "io/ChunkQueue.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace ferry::io {

Chunk* ChunkPool::take(bool small) {
  uint32_t capacity = small ? kSmallCapacity : kLargeCapacity;
  FreeList& list = listFor(capacity);
  Chunk* chunk = list.head;
  if (chunk != nullptr) {
    list.head = chunk->next;
    list.count--;
  } else {
    // Not value-initialised: the bytes are always written before they are read.
    chunk = new (::operator new(sizeof(Chunk) + capacity)) Chunk;
    chunk->capacity = capacity;
  }
  chunk->next = nullptr;
  chunk->begin = chunk->end = 0;
  outstanding_++;
  outstandingBytes_ += allocationSize(capacity);
  return chunk;
}

void ChunkPool::give(Chunk* chunk) {
  outstanding_--;
  outstandingBytes_ -= allocationSize(chunk->capacity);
  FreeList& list = listFor(chunk->capacity);
  if (list.count >= maxFree_) {
    release(chunk);
    return;
  }
  chunk->next = list.head;
  list.head = chunk;
  list.count++;
}

void ChunkPool::trim() {
  for (FreeList* list : {&freeSmall_, &freeLarge_}) {
    while (list->head != nullptr) {
      Chunk* chunk = list->head;
      list->head = chunk->next;
      release(chunk);
    }
    list->count = 0;
  }
}

void ChunkPool::release(Chunk* chunk) {
  chunk->~Chunk();
  ::operator delete(chunk);
}

void ChunkQueue::append(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    Chunk* chunk = tailWithRoom(bytes.size());
    size_t n = std::min<size_t>(bytes.size(), chunk->capacity - chunk->end);
    std::memcpy(chunk->bytes() + chunk->end, bytes.data(), n);
    chunk->end += static_cast<uint32_t>(n);
    size_ += n;
    bytes = bytes.subspan(n);
  }
}

Chunk* ChunkQueue::tailWithRoom(size_t wanted) {
  if (tail_ != nullptr && tail_->end < tail_->capacity) {
    return tail_;
  }
  // A few bytes into an empty queue (an interactive stream) take a small chunk.
  Chunk* chunk = pool_->take(head_ == nullptr && wanted <= ChunkPool::kSmallCapacity);
  if (tail_ != nullptr) {
    tail_->next = chunk;
  } else {
    head_ = chunk;
  }
  tail_ = chunk;
  chunks_++;
  return chunk;
}

ssize_t ChunkQueue::writeTo(int fd) {
  iovec vec[kMaxWriteChunks];
  int count = 0;
  for (Chunk* chunk = head_; chunk != nullptr && count < kMaxWriteChunks; chunk = chunk->next) {
    vec[count++] = {chunk->bytes() + chunk->begin, chunk->end - chunk->begin};
  }
  if (count == 0) {
    return 0;
  }
  ssize_t n = ::writev(fd, vec, count);
  if (n > 0) {
    consume(static_cast<size_t>(n));
  }
  return n;
}

void ChunkQueue::consume(size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  while (n > 0) {
    size_t inHead = head_->end - head_->begin;
    if (n < inHead) {
      head_->begin += static_cast<uint32_t>(n);
      return;
    }
    n -= inHead;
    popFront();  // also an emptied tail with room left: an empty queue holds nothing
  }
}

void ChunkQueue::clear() {
  while (head_ != nullptr) {
    popFront();
  }
  size_ = 0;
}

void ChunkQueue::popFront() {
  Chunk* chunk = head_;
  head_ = chunk->next;
  if (head_ == nullptr) {
    tail_ = nullptr;
  }
  chunks_--;
  pool_->give(chunk);
}

}  // namespace ferry::io
