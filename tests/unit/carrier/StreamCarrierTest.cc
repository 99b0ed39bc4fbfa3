#include <fcntl.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ReserveTestUtil.h"
#include "carrier/stream/StreamCarrier.h"
#include "carrier/stream/TcpCarrierAcceptor.h"
#include "carrier/stream/TcpCarrierConnector.h"
#include "proto/FrameWriter.h"
#include "support/SessionHarness.h"
#include "support/StreamCarrierPair.h"

namespace ferry::carrier::stream {
namespace {

using test::bytesOf;
using test::RecordingListener;
using test::runUntil;
using test::StreamCarrierPair;
using test::StreamCarrierWithRawPeer;
using namespace std::chrono_literals;

class StreamCarrierTest : public ::testing::Test {
 protected:
  void SetUp() override { io::ignoreSigpipe(); }
  io::Loop loop_;
};

TEST_F(StreamCarrierTest, FramesArriveInOrderAndIntact) {
  StreamCarrierPair pair(loop_);
  RecordingListener& ra = pair.seenByA;
  RecordingListener& rb = pair.seenByB;
  pair.a->send(proto::FrameType::Hello, 0, bytesOf("before start"));
  pair.start();
  std::string big = test::patternBytes(900 * 1000, 7);
  pair.a->send(proto::FrameType::Data, 3, bytesOf(big));
  pair.a->send(proto::FrameType::Fin, 3, {});
  pair.b->send(proto::FrameType::Ping, 0, bytesOf("12345678"));
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.frames.size() == 3 && ra.frames.size() == 1; }));
  EXPECT_EQ(rb.types(),
            (std::vector{proto::FrameType::Hello, proto::FrameType::Data, proto::FrameType::Fin}));
  EXPECT_EQ(rb.frames[0].text(), "before start");
  EXPECT_EQ(rb.frames[1].text(), big);
  EXPECT_EQ(rb.frames[1].stream, 3u);
  EXPECT_EQ(ra.frames[0].text(), "12345678");
  EXPECT_FALSE(ra.failed());
  EXPECT_FALSE(rb.failed());
}

TEST_F(StreamCarrierTest, GarbageFailsTheCarrier) {
  StreamCarrierWithRawPeer b(loop_, "b");
  RecordingListener& rb = b.seen;
  std::string garbage = "this is not a frame at all, just text";
  ASSERT_EQ(::write(b.peer.get(), garbage.data(), garbage.size()),
            static_cast<ssize_t>(garbage.size()));
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.failed(); }));
  EXPECT_NE(rb.failure().find("corrupt input"), std::string::npos) << rb.failure();
  EXPECT_EQ(rb.failures.front().code, EPROTO);
  EXPECT_TRUE(rb.frames.empty());
  b.carrier->close(true);
  EXPECT_EQ(loop_.watchedCount(), 0u);
}

TEST_F(StreamCarrierTest, EndOfInputAndCarrierFramesFailTheCarrier) {
  StreamCarrierWithRawPeer b(loop_, "b");
  RecordingListener& rb = b.seen;
  b.peer.reset();
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.failed(); }));
  EXPECT_NE(rb.failure().find("closed"), std::string::npos) << rb.failure();
  EXPECT_EQ(rb.failures.front().code, 0);  // an orderly end, no errno

  StreamCarrierWithRawPeer c(loop_, "c");
  RecordingListener& rc = c.seen;
  proto::FrameWriter writer;
  writer.append(proto::FrameType::Ping, 0, {});
  writer.append(proto::FrameType::Rotate, 0, {});
  ASSERT_GT(writer.batch().writeTo(c.peer.get()), 0);
  ASSERT_TRUE(runUntil(loop_, [&] { return rc.failed(); }));
  EXPECT_EQ(rc.frames.size(), 1u);
  EXPECT_NE(rc.failure().find("ROTATE"), std::string::npos) << rc.failure();
  EXPECT_EQ(rc.failures.front().code, EPROTO);
}

TEST_F(StreamCarrierTest, CongestionClearsWhenThePeerReads) {
  StreamCarrierWithRawPeer side(loop_, "a");
  StreamCarrier& a = *side.carrier;
  RecordingListener& ra = side.seen;
  std::string chunk(512 * 1024, 'z');
  for (int i = 0; i < 12; ++i) {
    a.send(proto::FrameType::Data, 1, bytesOf(chunk));
  }
  EXPECT_TRUE(a.congested());
  loop_.runOnce(1ms);
  EXPECT_TRUE(a.congested());  // the peer reads nothing: the kernel takes only its buffer
  EXPECT_EQ(ra.writable, 0);
  char sink[65536];
  ASSERT_TRUE(runUntil(loop_, [&] {
    while (::read(side.peer.get(), sink, sizeof sink) > 0) {
    }
    return ra.writable == 1;
  }));
  EXPECT_FALSE(a.congested());
}

TEST_F(StreamCarrierTest, WorksOverAPairOfPipes) {
  auto pair = StreamCarrierPair::overPipes(loop_);
  pair->start();
  std::string big = test::patternBytes(2 << 20, 9);
  pair->a->send(proto::FrameType::Data, 1, bytesOf(big.substr(0, 1 << 20)));
  pair->a->send(proto::FrameType::Data, 1, bytesOf(big.substr(1 << 20)));
  pair->b->send(proto::FrameType::Bye, 0, bytesOf("done"));
  RecordingListener& ra = pair->seenByA;
  RecordingListener& rb = pair->seenByB;
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.frames.size() == 2 && ra.frames.size() == 1; }));
  EXPECT_EQ(rb.frames[0].text() + rb.frames[1].text(), big);
  EXPECT_EQ(ra.frames[0].text(), "done");
  pair->a->close(false);
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.failed(); }));
}

TEST_F(StreamCarrierTest, ABrokenWritePipeFailsTheCarrierWithoutSpinning) {
  int toPeer[2];
  int fromPeer[2];
  ASSERT_EQ(::pipe2(toPeer, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(fromPeer, O_NONBLOCK | O_CLOEXEC), 0);
  io::Fd peerWrite(fromPeer[1]);  // kept open: the input side stays quiet
  StreamCarrier carrier(loop_, io::Fd(fromPeer[0]), io::Fd(toPeer[1]), "pipes");
  RecordingListener recorder;
  carrier.setListener(&recorder);
  carrier.start();
  ::close(toPeer[0]);  // the peer stops reading: EPOLLERR on our write end, with nothing to send
  ASSERT_TRUE(runUntil(
      loop_, [&] { return recorder.failed(); }, 2s));
  EXPECT_NE(recorder.failure().find("closed"), std::string::npos) << recorder.failure();
}

TEST_F(StreamCarrierTest, TcpConnectorReachesAcceptor) {
  TcpCarrierAcceptor acceptor(loop_, *io::Address::parse("127.0.0.1:0"));
  mux::CarrierPtr accepted;
  ASSERT_TRUE(acceptor.start([&](mux::CarrierPtr carrier) { accepted = std::move(carrier); }));
  TcpCarrierConnector connector(loop_, acceptor.localAddress());
  auto dialed = connector.connect();
  ASSERT_TRUE(dialed.has_value()) << dialed.error().message;
  RecordingListener rd;
  (*dialed)->setListener(&rd);
  (*dialed)->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return accepted != nullptr; }));
  EXPECT_NE(accepted->describe().find("127.0.0.1"), std::string::npos);
  RecordingListener racc;
  accepted->setListener(&racc);
  accepted->start();
  accepted->send(proto::FrameType::Hello, 0, bytesOf("hi"));
  (*dialed)->send(proto::FrameType::Hello, 0, bytesOf("ho"));
  ASSERT_TRUE(runUntil(loop_, [&] { return !rd.frames.empty() && !racc.frames.empty(); }));
  EXPECT_EQ(rd.frames[0].text(), "hi");
  EXPECT_EQ(racc.frames[0].text(), "ho");
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
  StreamCarrierPair pair(loop_);
  StreamCarrier& a = *pair.a;
  RecordingListener& rb = pair.seenByB;
  pair.start();
  std::string big = test::patternBytes(64 * 1024, 3);
  a.send(proto::FrameType::Hello, 0, bytesOf("hello"));
  testing::cancelReserved(a, 3);
  ASSERT_TRUE(testing::sendReserved(a, proto::FrameType::Data, 3, bytesOf(big)));
  testing::cancelReserved(a, 3);
  ASSERT_TRUE(testing::sendReserved(a, proto::FrameType::Data, 5, bytesOf("small")));
  a.send(proto::FrameType::Fin, 3, {});
  // A cancelled frame that used a sequence number or left bytes would fail b (sequence check).
  ASSERT_TRUE(runUntil(loop_, [&] { return rb.frames.size() == 4 || rb.failed(); }));
  EXPECT_EQ(rb.failure(), "");
  EXPECT_EQ(rb.types(), (std::vector{proto::FrameType::Hello, proto::FrameType::Data,
                                     proto::FrameType::Data, proto::FrameType::Fin}));
  EXPECT_EQ(rb.frames[1].text(), big);
  EXPECT_EQ(rb.frames[1].stream, 3u);
  EXPECT_EQ(rb.frames[2].text(), "small");
  EXPECT_EQ(rb.frames[2].stream, 5u);
  a.close(false);
  EXPECT_TRUE(a.reserve(proto::FrameType::Data, 3, 100).empty());
  a.commit(0);
}

}  // namespace
}  // namespace ferry::carrier::stream
