#include "io/Buffer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "io/Fd.h"

namespace ferry::io {
namespace {

std::vector<uint8_t> pattern(size_t size, uint32_t seed = 1) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) {
    seed = seed * 1103515245u + 12345u;
    bytes[i] = static_cast<uint8_t>(seed >> 16);
  }
  return bytes;
}

std::vector<uint8_t> contents(const Buffer& buffer) {
  return {buffer.data(), buffer.data() + buffer.readable()};
}

/// Start of the buffer's storage: unchanged by a slide, changed by a reallocation.
const uint8_t* storageOf(const Buffer& buffer) {
  return buffer.data() - buffer.prependable();
}

struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
  Fd a;
  Fd b;
};

TEST(BufferTest, AppendConsumePrepend) {
  Buffer buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.prependable(), Buffer::kPrependSize);
  buffer.append("hello world", 11);
  EXPECT_EQ(buffer.readable(), 11u);
  buffer.consume(6);
  EXPECT_EQ(std::string(buffer.data(), buffer.data() + buffer.readable()), "world");
  buffer.prepend("big ", 4);
  EXPECT_EQ(std::string(buffer.data(), buffer.data() + buffer.readable()), "big world");
  iovec vec = buffer.readableIovec();
  EXPECT_EQ(vec.iov_base, buffer.data());
  EXPECT_EQ(vec.iov_len, 9u);
  buffer.consume(100);  // more than readable: empties
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.prependable(), Buffer::kPrependSize);
}

TEST(BufferTest, PrependFillsTheWholeZone) {
  Buffer buffer;
  buffer.append("p", 1);
  std::vector<uint8_t> header = pattern(Buffer::kPrependSize);
  buffer.prepend(header.data(), header.size());
  EXPECT_EQ(buffer.prependable(), 0u);
  EXPECT_EQ(buffer.readable(), Buffer::kPrependSize + 1);
  EXPECT_TRUE(std::equal(header.begin(), header.end(), buffer.data()));
}

// Misuse by our own code is a FERRY_BUG: the process stops instead of writing past the storage.
TEST(BufferDeathTest, PrependBeyondTheZoneAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Buffer buffer;
  buffer.append("p", 1);
  std::vector<uint8_t> header = pattern(Buffer::kPrependSize + 1);
  EXPECT_DEATH(buffer.prepend(header.data(), header.size()),
               "bug at src/io/Buffer.cc:[0-9]+: check `n <= prependable\\(\\)` failed");
}

TEST(BufferDeathTest, CommitBeyondThePreparedSpaceAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Buffer buffer;
  buffer.prepareWrite(10);  // a few KiB of storage, far less than what is committed below
  EXPECT_DEATH(buffer.commit(size_t{1} << 30), "bug at src/io/Buffer.h:[0-9]+: check");
}

TEST(BufferTest, PrepareWriteGrowsAndKeepsContents) {
  Buffer buffer;
  std::vector<uint8_t> expected;
  for (size_t chunk : {1u, 100u, 4000u, 10000u, 70000u, 3u, 300000u}) {
    std::vector<uint8_t> bytes = pattern(chunk, static_cast<uint32_t>(chunk));
    buffer.append(bytes);
    expected.insert(expected.end(), bytes.begin(), bytes.end());
    ASSERT_EQ(contents(buffer), expected);
  }
  uint8_t* out = buffer.prepareWrite(1 << 20);
  out[(1 << 20) - 1] = 7;  // the whole promised range is writable
  buffer.commit(1 << 20);
  EXPECT_EQ(buffer.readable(), expected.size() + (1 << 20));
}

TEST(BufferTest, PrepareWriteSlidesBackInsteadOfGrowing) {
  Buffer buffer;
  std::vector<uint8_t> first = pattern(3000);
  buffer.append(first);
  buffer.consume(2900);
  const uint8_t* before = storageOf(buffer);
  std::vector<uint8_t> second = pattern(2000, 2);
  buffer.append(second);  // the tail holds ~1100 bytes, the consumed front ~2900
  EXPECT_EQ(storageOf(buffer), before) << "reallocated where a slide was enough";
  EXPECT_EQ(buffer.prependable(), Buffer::kPrependSize);
  std::vector<uint8_t> expected(first.end() - 100, first.end());
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(contents(buffer), expected);
}

TEST(BufferTest, GrowingAfterPrependGivesTheSpacePromised) {
  // With bytes prepended, the read index sits inside the prepend zone; making space must still
  // return at least the requested room.
  Buffer buffer;
  const uint8_t* initial = storageOf(buffer);
  std::vector<uint8_t> payload = pattern(100);
  buffer.append(payload);
  std::vector<uint8_t> header = pattern(28, 3);
  buffer.prepend(header.data(), header.size());
  // One byte more than the tail holds.
  std::vector<uint8_t> more = pattern(Buffer::kInitialSize - payload.size() + 1, 4);
  buffer.append(more);
  if (storageOf(buffer) == initial) {
    EXPECT_LE(buffer.prependable() + buffer.readable(), Buffer::kPrependSize + Buffer::kInitialSize)
        << "the bytes were written past the end of the storage";
  }
  std::vector<uint8_t> expected = header;
  expected.insert(expected.end(), payload.begin(), payload.end());
  expected.insert(expected.end(), more.begin(), more.end());
  EXPECT_EQ(contents(buffer), expected);
}

TEST(BufferTest, ReadFromSpillsBeyondTheTail) {
  SocketPair pair;
  std::vector<uint8_t> sent = pattern(20000);
  ASSERT_EQ(::write(pair.b.get(), sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  Buffer buffer;  // 4 KiB tail: the rest goes through the stack spill
  ssize_t n = buffer.readFrom(pair.a.get(), 1 << 20);
  ASSERT_EQ(n, static_cast<ssize_t>(sent.size()));
  EXPECT_EQ(contents(buffer), sent);
  errno = 0;
  EXPECT_EQ(buffer.readFrom(pair.a.get(), 1 << 20), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(BufferTest, ReadFromCapsAtTailPlusSpillAndMaxBytes) {
  SocketPair pair;
  int size = 1 << 20;
  ::setsockopt(pair.b.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  std::vector<uint8_t> sent = pattern(150000);
  size_t written = 0;
  while (written < sent.size()) {
    ssize_t n = ::write(pair.b.get(), sent.data() + written, sent.size() - written);
    ASSERT_GT(n, 0) << "socket buffer too small for the test";
    written += static_cast<size_t>(n);
  }
  Buffer buffer;
  EXPECT_EQ(buffer.readFrom(pair.a.get(), 10), 10);
  std::vector<uint8_t> received;
  size_t reads = 0;
  while (buffer.readable() < sent.size() && reads++ < 1000) {
    size_t before = buffer.readable();
    ssize_t n = buffer.readFrom(pair.a.get(), 1 << 20);
    ASSERT_GT(n, 0);
    EXPECT_EQ(buffer.readable(), before + static_cast<size_t>(n));
    EXPECT_LE(static_cast<size_t>(n), 64 * 1024 + (1 << 20));
  }
  EXPECT_EQ(contents(buffer), sent);
}

TEST(BufferTest, ReadFromReportsEof) {
  SocketPair pair;
  pair.b.reset();
  Buffer buffer;
  EXPECT_EQ(buffer.readFrom(pair.a.get(), 4096), 0);
  EXPECT_TRUE(buffer.empty());
}

TEST(BufferTest, WriteToHandlesPartialWrites) {
  SocketPair pair;
  std::vector<uint8_t> sent = pattern(4 << 20);
  Buffer buffer;
  buffer.append(sent);
  std::vector<uint8_t> received;
  std::vector<uint8_t> chunk(1 << 16);
  bool sawEagain = false;
  for (int round = 0; round < 100000 && received.size() < sent.size(); ++round) {
    // Fill the socket until EAGAIN, then drain the peer.
    while (!buffer.empty()) {
      size_t before = buffer.readable();
      ssize_t n = buffer.writeTo(pair.a.get());
      if (n < 0) {
        ASSERT_EQ(errno, EAGAIN);
        sawEagain = true;
        break;
      }
      ASSERT_GT(n, 0);
      EXPECT_EQ(buffer.readable(), before - static_cast<size_t>(n));
    }
    ssize_t got;
    while ((got = ::read(pair.b.get(), chunk.data(), chunk.size())) > 0) {
      received.insert(received.end(), chunk.begin(), chunk.begin() + got);
    }
  }
  EXPECT_TRUE(sawEagain);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(received, sent);
}

TEST(BufferTest, ShrinkIfIdleGivesMemoryBackOnlyWhenEmpty) {
  Buffer buffer;
  buffer.append(pattern(1 << 20));
  const uint8_t* large = storageOf(buffer);
  buffer.shrinkIfIdle();
  EXPECT_EQ(storageOf(buffer), large) << "shrank while holding bytes";
  EXPECT_EQ(buffer.readable(), 1u << 20);
  buffer.consume(1 << 20);
  buffer.shrinkIfIdle();
  EXPECT_NE(storageOf(buffer), large);
  EXPECT_EQ(buffer.prependable(), Buffer::kPrependSize);
  std::vector<uint8_t> again = pattern(5000, 9);
  buffer.append(again);
  EXPECT_EQ(contents(buffer), again);

  Buffer small;
  small.append("x", 1);
  small.consume(1);
  const uint8_t* before = storageOf(small);
  small.shrinkIfIdle();
  EXPECT_EQ(storageOf(small), before) << "a small buffer was reallocated";
}

}  // namespace
}  // namespace ferry::io
