#include <fcntl.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../mux/SessionHarness.h"
#include "carrier/stream/StreamCarrier.h"
#include "carrier/stream/TcpCarrierAcceptor.h"
#include "carrier/stream/TcpCarrierConnector.h"
#include "proto/FrameWriter.h"
#include "reserve_test_util.h"

namespace ferry::carrier {
namespace {

using test::runUntil;
using namespace std::chrono_literals;

struct Recorder : mux::CarrierListener {
  std::vector<proto::FrameType> types;
  std::vector<uint32_t> streams;
  std::vector<std::string> payloads;
  std::string failure;
  int writable = 0;
  void onFrame(const proto::Frame& frame) override {
    types.push_back(frame.header.type);
    streams.push_back(frame.header.stream);
    payloads.emplace_back(reinterpret_cast<const char*>(frame.payload.data()),
                          frame.payload.size());
  }
  void onCarrierFailed(const std::string& reason) override { failure = reason; }
  void onCarrierWritable() override { writable++; }
};

std::span<const uint8_t> bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::pair<io::Fd, io::Fd> socketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  return {io::Fd(fds[0]), io::Fd(fds[1])};
}

class StreamCarrierTest : public ::testing::Test {
 protected:
  void SetUp() override { io::ignoreSigpipe(); }
  io::Loop loop_;
};

TEST_F(StreamCarrierTest, FramesArriveInOrderAndIntact) {
  auto [left, right] = socketPair();
  StreamCarrier a(loop_, std::move(left), "a");
  StreamCarrier b(loop_, std::move(right), "b");
  Recorder ra;
  Recorder rb;
  a.setListener(&ra);
  b.setListener(&rb);
  a.send(proto::FrameType::Hello, 0, bytes("before start"));
  a.start();
  b.start();
  std::string big = test::patternBytes(900 * 1000, 7);
  a.send(proto::FrameType::Data, 3, bytes(big));
  a.send(proto::FrameType::Fin, 3, {});
  b.send(proto::FrameType::Ping, 0, bytes("12345678"));
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.types.size() == 3 && ra.types.size() == 1; }));
  EXPECT_EQ(rb.types,
            (std::vector{proto::FrameType::Hello, proto::FrameType::Data, proto::FrameType::Fin}));
  EXPECT_EQ(rb.payloads[0], "before start");
  EXPECT_EQ(rb.payloads[1], big);
  EXPECT_EQ(rb.streams[1], 3u);
  EXPECT_EQ(ra.payloads[0], "12345678");
  EXPECT_TRUE(ra.failure.empty());
  EXPECT_TRUE(rb.failure.empty());
}

TEST_F(StreamCarrierTest, GarbageFailsTheCarrier) {
  auto [left, right] = socketPair();
  StreamCarrier b(loop_, std::move(right), "b");
  Recorder rb;
  b.setListener(&rb);
  b.start();
  std::string garbage = "this is not a frame at all, just text";
  ASSERT_EQ(::write(left.get(), garbage.data(), garbage.size()),
            static_cast<ssize_t>(garbage.size()));
  ASSERT_TRUE(runUntil(loop_, [&] { return !rb.failure.empty(); }));
  EXPECT_NE(rb.failure.find("corrupt input"), std::string::npos) << rb.failure;
  EXPECT_TRUE(rb.types.empty());
  b.close(true);
  EXPECT_EQ(loop_.watchedCount(), 0u);
}

TEST_F(StreamCarrierTest, EndOfInputAndCarrierFramesFailTheCarrier) {
  auto [left, right] = socketPair();
  StreamCarrier b(loop_, std::move(right), "b");
  Recorder rb;
  b.setListener(&rb);
  b.start();
  left.reset();
  ASSERT_TRUE(runUntil(loop_, [&] { return !rb.failure.empty(); }));
  EXPECT_NE(rb.failure.find("closed"), std::string::npos) << rb.failure;

  auto [left2, right2] = socketPair();
  StreamCarrier c(loop_, std::move(right2), "c");
  Recorder rc;
  c.setListener(&rc);
  c.start();
  proto::FrameWriter writer;
  writer.append(proto::FrameType::Ping, 0, {});
  writer.append(proto::FrameType::Rotate, 0, {});
  ASSERT_GT(writer.batch().writeTo(left2.get()), 0);
  ASSERT_TRUE(runUntil(loop_, [&] { return !rc.failure.empty(); }));
  EXPECT_EQ(rc.types.size(), 1u);
  EXPECT_NE(rc.failure.find("ROTATE"), std::string::npos) << rc.failure;
}

TEST_F(StreamCarrierTest, CongestionClearsWhenThePeerReads) {
  auto [left, right] = socketPair();
  StreamCarrier a(loop_, std::move(left), "a");
  Recorder ra;
  a.setListener(&ra);
  a.start();
  std::string chunk(512 * 1024, 'z');
  for (int i = 0; i < 12; ++i) {
    a.send(proto::FrameType::Data, 1, bytes(chunk));
  }
  EXPECT_TRUE(a.congested());
  loop_.runOnce(1ms);
  EXPECT_TRUE(a.congested());  // the peer reads nothing: the kernel takes only its buffer
  EXPECT_EQ(ra.writable, 0);
  char sink[65536];
  ASSERT_TRUE(runUntil(loop_, [&] {
    while (::read(right.get(), sink, sizeof sink) > 0) {
    }
    return ra.writable == 1;
  }));
  EXPECT_FALSE(a.congested());
}

TEST_F(StreamCarrierTest, WorksOverAPairOfPipes) {
  int toB[2];
  int toA[2];
  ASSERT_EQ(::pipe2(toB, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(toA, O_NONBLOCK | O_CLOEXEC), 0);
  StreamCarrier a(loop_, io::Fd(toA[0]), io::Fd(toB[1]), "a");
  StreamCarrier b(loop_, io::Fd(toB[0]), io::Fd(toA[1]), "b");
  Recorder ra;
  Recorder rb;
  a.setListener(&ra);
  b.setListener(&rb);
  a.start();
  b.start();
  std::string big = test::patternBytes(2 << 20, 9);
  a.send(proto::FrameType::Data, 1, bytes(big.substr(0, 1 << 20)));
  a.send(proto::FrameType::Data, 1, bytes(big.substr(1 << 20)));
  b.send(proto::FrameType::Bye, 0, bytes("done"));
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.types.size() == 2 && ra.types.size() == 1; }));
  EXPECT_EQ(rb.payloads[0] + rb.payloads[1], big);
  EXPECT_EQ(ra.payloads[0], "done");
  a.close(false);
  ASSERT_TRUE(runUntil(loop_, [&] { return !rb.failure.empty(); }));
}

TEST_F(StreamCarrierTest, ABrokenWritePipeFailsTheCarrierWithoutSpinning) {
  int toPeer[2];
  int fromPeer[2];
  ASSERT_EQ(::pipe2(toPeer, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(fromPeer, O_NONBLOCK | O_CLOEXEC), 0);
  io::Fd peerWrite(fromPeer[1]);  // kept open: the input side stays quiet
  StreamCarrier carrier(loop_, io::Fd(fromPeer[0]), io::Fd(toPeer[1]), "pipes");
  Recorder recorder;
  carrier.setListener(&recorder);
  carrier.start();
  ::close(toPeer[0]);  // the peer stops reading: EPOLLERR on our write end, with nothing to send
  ASSERT_TRUE(runUntil(
      loop_, [&] { return !recorder.failure.empty(); }, 2s));
  EXPECT_NE(recorder.failure.find("closed"), std::string::npos) << recorder.failure;
}

TEST_F(StreamCarrierTest, TcpConnectorReachesAcceptor) {
  TcpCarrierAcceptor acceptor(loop_, *io::Address::parse("127.0.0.1:0"));
  mux::CarrierPtr accepted;
  ASSERT_TRUE(acceptor.start([&](mux::CarrierPtr carrier) { accepted = std::move(carrier); }));
  TcpCarrierConnector connector(loop_, acceptor.localAddress());
  auto dialed = connector.connect();
  ASSERT_TRUE(dialed.has_value()) << dialed.error().message;
  Recorder rd;
  (*dialed)->setListener(&rd);
  (*dialed)->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return accepted != nullptr; }));
  EXPECT_NE(accepted->describe().find("127.0.0.1"), std::string::npos);
  Recorder racc;
  accepted->setListener(&racc);
  accepted->start();
  accepted->send(proto::FrameType::Hello, 0, bytes("hi"));
  (*dialed)->send(proto::FrameType::Hello, 0, bytes("ho"));
  ASSERT_TRUE(runUntil(loop_, [&] { return !rd.types.empty() && !racc.types.empty(); }));
  EXPECT_EQ(rd.payloads[0], "hi");
  EXPECT_EQ(racc.payloads[0], "ho");
  acceptor.stop();
  (*dialed)->close(false);
  accepted->close(true);
  EXPECT_EQ(loop_.watchedCount(), 0u);
}

TEST_F(StreamCarrierTest, ConnectorReportsRefusal) {
  io::Address closed;
  {
    test::Listener gone;
    closed = gone.address;
  }
  TcpCarrierConnector connector(loop_, closed);
  auto dialed = connector.connect();
  ASSERT_FALSE(dialed.has_value());
  EXPECT_EQ(dialed.error().code, ECONNREFUSED);
}

TEST_F(StreamCarrierTest, ReservedFramesArriveLikeSentOnesAndCancelledOnesNotAtAll) {
  auto [left, right] = socketPair();
  StreamCarrier a(loop_, std::move(left), "a");
  StreamCarrier b(loop_, std::move(right), "b");
  Recorder ra;
  Recorder rb;
  a.setListener(&ra);
  b.setListener(&rb);
  a.start();
  b.start();
  std::string big = test::patternBytes(64 * 1024, 3);
  a.send(proto::FrameType::Hello, 0, bytes("hello"));
  testing::cancelReserved(a, 3);
  ASSERT_TRUE(testing::sendReserved(a, proto::FrameType::Data, 3, bytes(big)));
  testing::cancelReserved(a, 3);
  ASSERT_TRUE(testing::sendReserved(a, proto::FrameType::Data, 5, bytes("small")));
  a.send(proto::FrameType::Fin, 3, {});
  // A cancelled frame that used a sequence number or left bytes would fail b (sequence check).
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.types.size() == 4 || !rb.failure.empty(); }));
  EXPECT_EQ(rb.failure, "");
  EXPECT_EQ(rb.types, (std::vector{proto::FrameType::Hello, proto::FrameType::Data,
                                   proto::FrameType::Data, proto::FrameType::Fin}));
  EXPECT_EQ(rb.payloads[1], big);
  EXPECT_EQ(rb.streams[1], 3u);
  EXPECT_EQ(rb.payloads[2], "small");
  EXPECT_EQ(rb.streams[2], 5u);
  a.close(false);
  EXPECT_TRUE(a.reserve(proto::FrameType::Data, 3, 100).empty());
  a.commit(0);
}

}  // namespace
}  // namespace ferry::carrier
