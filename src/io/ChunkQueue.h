#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace ferry::io {

/// One block of a ChunkQueue: a header followed by its bytes, in one allocation.
struct Chunk {
  Chunk* next = nullptr;
  uint32_t capacity = 0;
  uint32_t begin = 0;  // first unread byte
  uint32_t end = 0;    // one past the last written byte
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
};

/// Recycles chunks of two fixed sizes: small ones for the first bytes of a queue (a 1-byte
/// message must not pin 64 KiB) and large ones for bulk. At most `maxFree` chunks of each size are
/// kept (256 large ones: a 16 MiB window cycles through the pool without going back to malloc,
/// whose trimming would page-fault them in again); more are freed. The owner trims an idle pool.
/// Single-threaded: one pool per session (or per loop).
class ChunkPool {
 public:
  static constexpr size_t kSmallBytes = 4096;       // allocation size, header included
  static constexpr size_t kLargeBytes = 64 * 1024;  // allocation size, header included
  static constexpr size_t kSmallCapacity = kSmallBytes - sizeof(Chunk);
  static constexpr size_t kLargeCapacity = kLargeBytes - sizeof(Chunk);

  explicit ChunkPool(size_t maxFree = 256) : maxFree_(maxFree) {}
  ~ChunkPool() { trim(); }
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  /// A chunk with kSmallCapacity or kLargeCapacity bytes, empty.
  Chunk* take(bool small);
  /// Gives a chunk back (to the free list, or to the allocator when the list is full).
  void give(Chunk* chunk);
  /// Frees every kept chunk.
  void trim();
  /// Bytes held in free lists (allocation sizes).
  size_t freeBytes() const {
    return freeSmall_.count * kSmallBytes + freeLarge_.count * kLargeBytes;
  }
  /// Chunks handed out and not given back.
  size_t outstanding() const { return outstanding_; }
  /// All the memory of this pool's chunks, handed out or kept (allocation sizes).
  size_t heldBytes() const { return outstandingBytes_ + freeBytes(); }

 private:
  struct FreeList {
    Chunk* head = nullptr;
    size_t count = 0;
  };
  FreeList& listFor(uint32_t capacity) {
    return capacity == kSmallCapacity ? freeSmall_ : freeLarge_;
  }
  static size_t allocationSize(uint32_t capacity) {
    return capacity == kSmallCapacity ? kSmallBytes : kLargeBytes;
  }
  static void release(Chunk* chunk);

  size_t maxFree_;
  size_t outstanding_ = 0;
  size_t outstandingBytes_ = 0;
  FreeList freeSmall_;
  FreeList freeLarge_;
};

/// A byte queue as a chain of pooled chunks: appending never moves the bytes already queued (a
/// multi-MiB queue does not regrow and copy), writing uses writev over several chunks, and a
/// drained chunk goes back to the pool at once, so an empty queue holds no memory.
class ChunkQueue {
 public:
  /// Chunks per writev: 64 large chunks are 4 MiB, more than a socket takes at once.
  static constexpr int kMaxWriteChunks = 64;

  explicit ChunkQueue(ChunkPool& pool) : pool_(&pool) {}
  ~ChunkQueue() { clear(); }
  ChunkQueue(const ChunkQueue&) = delete;
  ChunkQueue& operator=(const ChunkQueue&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// Chunks held (what the queue costs in memory).
  size_t chunkCount() const { return chunks_; }

  void append(std::span<const uint8_t> bytes);
  /// Writes the queued bytes with one writev (at most kMaxWriteChunks chunks) and consumes what
  /// was written. Returns bytes written, or -1 with errno set.
  ssize_t writeTo(int fd);
  void consume(size_t n);
  void clear();

 private:
  /// The chunk to append `wanted` more bytes to, a new one when the tail is full.
  Chunk* tailWithRoom(size_t wanted);
  void popFront();

  ChunkPool* pool_;
  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  size_t size_ = 0;
  size_t chunks_ = 0;
};

}  // namespace ferry::io
