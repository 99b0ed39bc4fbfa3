#include "io/ChunkQueue.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/Fd.h"

namespace ferry::io {
namespace {

std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 11));
  }
  return bytes;
}

/// Reads everything `fd` (non-blocking) has now.
std::vector<uint8_t> drain(int fd) {
  std::vector<uint8_t> got;
  uint8_t buffer[65536];
  for (int i = 0; i < 100000; ++i) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      break;
    }
    got.insert(got.end(), buffer, buffer + n);
  }
  return got;
}

struct SocketPair {
  Fd writer;
  Fd reader;
  explicit SocketPair(int sendBuffer) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    writer = Fd(fds[0]);
    reader = Fd(fds[1]);
    ::setsockopt(writer.get(), SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer);
  }
};

TEST(ChunkQueue, AFewBytesTakeOneSmallChunkAndAnEmptyQueueHoldsNone) {
  ChunkPool pool;
  ChunkQueue queue(pool);
  uint8_t byte = 'x';
  queue.append({&byte, 1});
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.chunkCount(), 1u);
  queue.consume(1);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.chunkCount(), 0u);
  EXPECT_EQ(pool.outstanding(), 0u);
  EXPECT_EQ(pool.freeBytes(), ChunkPool::kSmallBytes);  // kept for the next message
}

TEST(ChunkQueue, LargeAppendsSpanChunksWithoutMovingBytes) {
  ChunkPool pool;
  ChunkQueue queue(pool);
  auto bytes = pattern(3 << 20, 1);
  queue.append(bytes);
  EXPECT_EQ(queue.size(), bytes.size());
  size_t large = ChunkPool::kLargeCapacity;
  EXPECT_EQ(queue.chunkCount(), (bytes.size() + large - 1) / large);
  queue.consume(large + 10);
  EXPECT_EQ(queue.size(), bytes.size() - large - 10);
  queue.clear();
  EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(ChunkQueue, PartialWritesKeepOrderAndConsumeExactlyWhatWasWritten) {
  SocketPair sockets(16 * 1024);  // the kernel takes far less than is queued per writev
  ChunkPool pool;
  ChunkQueue queue(pool);
  std::vector<uint8_t> sent;
  std::vector<uint8_t> received;
  int partialWrites = 0;
  for (uint8_t round = 0; round < 8; ++round) {
    auto bytes = pattern(300 * 1000 + round * 4099, round);
    queue.append(bytes);
    sent.insert(sent.end(), bytes.begin(), bytes.end());
    for (int i = 0; i < 100000 && !queue.empty(); ++i) {
      size_t before = queue.size();
      ssize_t n = queue.writeTo(sockets.writer.get());
      if (n > 0) {
        EXPECT_EQ(queue.size(), before - static_cast<size_t>(n));
        partialWrites += queue.empty() ? 0 : 1;
      } else {
        ASSERT_EQ(errno, EAGAIN);
      }
      auto got = drain(sockets.reader.get());
      received.insert(received.end(), got.begin(), got.end());
    }
    ASSERT_TRUE(queue.empty());
  }
  auto rest = drain(sockets.reader.get());
  received.insert(received.end(), rest.begin(), rest.end());
  EXPECT_EQ(received, sent);
  EXPECT_GT(partialWrites, 8);
  EXPECT_EQ(queue.chunkCount(), 0u);
}

TEST(ChunkQueue, WritevCoversAtMostItsChunkLimit) {
  SocketPair sockets(8 << 20);
  ChunkPool pool;
  ChunkQueue queue(pool);
  auto bytes = pattern(ChunkPool::kLargeCapacity * (ChunkQueue::kMaxWriteChunks + 6), 3);
  queue.append(bytes);
  ssize_t n = queue.writeTo(sockets.writer.get());
  ASSERT_GT(n, 0);
  EXPECT_LE(static_cast<size_t>(n), ChunkPool::kLargeCapacity * ChunkQueue::kMaxWriteChunks);
}

TEST(ChunkPool, KeepsAtMostItsBoundAndTrimFreesAll) {
  ChunkPool pool(4);
  {
    ChunkQueue queue(pool);
    queue.append(pattern(ChunkPool::kLargeCapacity * 10, 2));
    EXPECT_EQ(pool.outstanding(), 10u);
  }
  EXPECT_EQ(pool.outstanding(), 0u);
  EXPECT_EQ(pool.freeBytes(), 4 * ChunkPool::kLargeBytes);
  // Recycled chunks serve the next queue.
  {
    ChunkQueue queue(pool);
    queue.append(pattern(ChunkPool::kLargeCapacity * 2, 4));
    EXPECT_EQ(pool.freeBytes(), 2 * ChunkPool::kLargeBytes);
  }
  pool.trim();
  EXPECT_EQ(pool.freeBytes(), 0u);
}

}  // namespace
}  // namespace ferry::io
