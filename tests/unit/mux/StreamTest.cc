// Stream's life states against a fake owner and a real socket pair: half-close ordering and
// states that only move forward, which the session tests see only from the outside.
#include "mux/Stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mux/Carrier.h"
#include "support/RunUntil.h"
#include "support/SocketPair.h"

namespace ferry::test {
namespace {

using mux::Stream;
using proto::FrameType;

/// Records what the stream asks of its session; destroys the stream when it ends, as the
/// session does.
struct FakeOwner : mux::StreamOwner {
  io::Loop loop;
  io::ChunkPool pool;
  mux::StreamContext context{loop,       pool,      {1 << 20, 64 << 20},
                             256 * 1024, 16 * 1024, mux::Carrier::kDefaultSocketReadBudget};
  std::unique_ptr<Stream> stream;
  std::vector<FrameType> frames;
  std::vector<uint8_t> room;
  std::string dataSent;  // payloads of the Data frames read from the socket
  std::vector<Stream*> flushes;
  bool closed = false;
  std::string failure;
  uint64_t heldAtEnd = 0;  // what the stream held of `context.committed` when it ended

  std::string describe() const override { return "test"; }
  void sendFrame(FrameType type, uint32_t, std::span<const uint8_t>) override {
    frames.push_back(type);
  }
  std::span<uint8_t> reserveData(uint32_t, size_t max) override {
    room.resize(max);
    return room;
  }
  void commitData(size_t n) override {
    dataSent.append(reinterpret_cast<const char*>(room.data()), n);
    if (n > 0) {
      frames.push_back(FrameType::Data);
    }
  }
  bool carrierCongested() const override { return false; }
  void waitForCarrier(Stream&) override {}
  void queueFlush(Stream& s) override { flushes.push_back(&s); }
  void windowGrown(Stream&) override {}
  void streamClosed(Stream&) override {
    closed = true;
    stream.reset();
  }
  void streamFailed(Stream& s, const std::string& reason) override {
    failure = reason;
    heldAtEnd = s.heldBytes();
    stream.reset();
  }
  void connectFailed(Stream&, int) override { stream.reset(); }

  /// The session's end-of-tick flush of the streams that asked for it.
  void flush() {
    auto pending = std::move(flushes);
    flushes.clear();
    for (Stream* queued : pending) {
      if (stream.get() == queued) {
        queued->writeSocket();
      }
    }
  }
  int count(FrameType type) const { return static_cast<int>(std::ranges::count(frames, type)); }
};

struct StreamFixture : ::testing::Test {
  FakeOwner owner;
  io::Fd app;  // the application's end of the stream's socket

  void SetUp() override {
    auto [ours, theirs] = socketPair();
    app = std::move(theirs);
    int small = 4096;  // so that a few frames of Data fill the socket
    ASSERT_EQ(::setsockopt(ours.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    owner.stream =
        std::make_unique<Stream>(owner, owner.context, 1, std::move(ours), Stream::Phase::Open);
    owner.stream->updateEvents();
  }
  /// Reads what the application has (non-blocking); sets `eof` when the stream's end shut.
  std::string drainApp(bool& eof) {
    std::string got;
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(app.get(), buffer, sizeof buffer);
      if (n <= 0) {
        eof = n == 0;
        return got;
      }
      got.append(buffer, static_cast<size_t>(n));
    }
  }
};

std::span<const uint8_t> bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST_F(StreamFixture, PeerFinShutsTheWriteSideOnlyAfterQueuedOutput) {
  // More than the socket pair buffers: the direct write leaves the rest queued.
  std::string payload(48 * 1024, 'x');
  for (int i = 0; i < 4; ++i) {
    owner.stream->onData(bytes(payload));
  }
  owner.stream->onFin();
  owner.flush();
  // The socket took only part: the write side waits for the rest.
  EXPECT_EQ(owner.stream->writeSide(), Stream::WriteSide::FinReceived);

  std::string received;
  bool eof = false;
  ASSERT_TRUE(runUntil(owner.loop, [&] {
    owner.flush();
    received += drainApp(eof);
    return eof;
  }));
  EXPECT_EQ(received.size(), 4 * payload.size());  // every byte before the EOF
  EXPECT_EQ(owner.failure, "");
  ASSERT_NE(owner.stream, nullptr);  // our read side is still open
  EXPECT_EQ(owner.stream->writeSide(), Stream::WriteSide::Shut);
  EXPECT_FALSE(owner.stream->finished());
}

TEST_F(StreamFixture, SocketEofSendsOneFinAndNoMoreReads) {
  ASSERT_EQ(::write(app.get(), "hello", 5), 5);
  ASSERT_EQ(::shutdown(app.get(), SHUT_WR), 0);
  ASSERT_TRUE(runUntil(owner.loop, [&] { return owner.count(FrameType::Fin) > 0; }));
  EXPECT_EQ(owner.dataSent, "hello");
  EXPECT_EQ(owner.stream->readSide(), Stream::ReadSide::FinSent);

  // Credit afterwards does not wake the read side again.
  owner.stream->onWindow(64 * 1024);
  owner.loop.runOnce(std::chrono::milliseconds(20));
  EXPECT_EQ(owner.count(FrameType::Fin), 1);
  EXPECT_FALSE(owner.closed);

  // The peer's Fin completes the stream: the session is told it closed.
  owner.stream->onFin();
  owner.flush();
  EXPECT_TRUE(owner.closed);
  EXPECT_EQ(owner.failure, "");
}

TEST_F(StreamFixture, RepeatedFinFromThePeerIsNotABug) {
  owner.stream->onFin();
  owner.stream->onFin();  // peer garbage: the write side stays where it is
  EXPECT_EQ(owner.stream->writeSide(), Stream::WriteSide::FinReceived);
  owner.flush();
  ASSERT_NE(owner.stream, nullptr);
  EXPECT_EQ(owner.stream->writeSide(), Stream::WriteSide::Shut);
  owner.stream->onFin();
  EXPECT_EQ(owner.stream->writeSide(), Stream::WriteSide::Shut);
}

TEST_F(StreamFixture, DataAfterFinFailsTheStream) {
  owner.stream->onFin();
  owner.stream->onData(bytes("late"));
  EXPECT_EQ(owner.failure, "protocol error: Data after Fin");
  EXPECT_EQ(owner.stream, nullptr);
}

TEST_F(StreamFixture, ATickReadsUpToTheCarriersBudgetFromTheSocket) {
  std::string sent(120000, 'b');  // over 4 frames of 16 KiB, the reads a tick once made at most
  ASSERT_EQ(::write(app.get(), sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  owner.context.socketReadBudget = 64 * 1024;
  owner.loop.runOnce(std::chrono::milliseconds(100));
  EXPECT_EQ(owner.dataSent.size(), 64u * 1024) << "the first tick stops at the budget";
  owner.loop.runOnce(std::chrono::milliseconds(100));
  EXPECT_EQ(owner.dataSent.size(), sent.size()) << "the next tick reads the rest";

  // A share's carrier asks for 1 MiB: one tick takes all that is there, in 8 reads.
  owner.dataSent.clear();
  owner.context.socketReadBudget = 1024 * 1024;
  ASSERT_EQ(::write(app.get(), sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  owner.loop.runOnce(std::chrono::milliseconds(100));
  EXPECT_EQ(owner.dataSent.size(), sent.size());
}

TEST_F(StreamFixture, AFailedDirectWriteLeavesNoCommittedBytesBehind) {
  std::signal(SIGPIPE, SIG_IGN);  // as ferry does: the write fails with EPIPE instead
  owner.context.committed = owner.stream->heldBytes();  // as the session counts a new stream
  app.reset();                                          // the application is gone
  owner.stream->onData(bytes(std::string(100, 'x')));
  ASSERT_NE(owner.failure, "");
  // The session subtracts what the stream held at its end: that must leave nothing.
  EXPECT_EQ(owner.context.committed, owner.heldAtEnd);
}

}  // namespace
}  // namespace ferry::test
