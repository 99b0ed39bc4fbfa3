// Datagram frames through a session: flow id checks, delivery to the handler, and the drop
// policy (a congested carrier drops datagrams instead of queueing them).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/Loop.h"
#include "mux/Session.h"
#include "support/MemoryCarrierPair.h"

namespace ferry::test {
namespace {

using proto::FrameType;

/// A carrier the test drives: records what the session sends, injects peer frames, and is
/// congested on demand.
class ScriptedCarrier : public mux::Carrier {
 public:
  void setListener(mux::CarrierListener* listener) override { listener_ = listener; }
  void start() override {}
  void send(FrameType type, uint32_t stream, std::span<const uint8_t> payload) override {
    sent.push_back({type, stream, {payload.begin(), payload.end()}});
  }
  bool congested() const override { return jammed; }
  void close(bool) override {}
  std::string describe() const override { return "scripted"; }

  void inject(FrameType type, uint32_t stream, std::span<const uint8_t> payload = {}) {
    deliverFrame(*listener_, {type, stream, {payload.begin(), payload.end()}});
  }
  int count(FrameType type) const {
    return static_cast<int>(
        std::count_if(sent.begin(), sent.end(), [type](const Frame& s) { return s.type == type; }));
  }

  std::vector<Frame> sent;
  bool jammed = false;

 private:
  mux::CarrierListener* listener_ = nullptr;
};

struct NoStreams : mux::SessionHandler {
  void connectStream(std::string_view, mux::ConnectDone done) override {
    done(std::unexpected(mux::OpenError{proto::RstCode::NotAllowed, "no streams"}));
  }
  void onSessionEnded(mux::Session&, const std::string& why) override { ended = why; }
  std::string ended;
};

struct RecordingFlows : mux::DatagramHandler {
  void onFlowOpen(uint32_t flow, std::string_view target) override {
    opened.push_back(flow);
    targets.emplace_back(target);
  }
  void onDatagram(uint32_t flow, std::span<const uint8_t> payload) override {
    datagrams.emplace_back(flow, std::string(payload.begin(), payload.end()));
  }
  void onFlowClosed(uint32_t flow, proto::FlowCloseReason reason) override {
    closed.emplace_back(flow, reason);
  }
  void onDatagramSweep(io::TimePoint) override {}
  std::vector<uint32_t> opened;
  std::vector<std::string> targets;
  std::vector<std::pair<uint32_t, std::string>> datagrams;
  std::vector<std::pair<uint32_t, proto::FlowCloseReason>> closed;
};

struct DatagramSession : ::testing::Test {
  io::Loop loop;
  NoStreams handler;
  RecordingFlows flows;
  ScriptedCarrier* carrier = nullptr;
  std::unique_ptr<mux::Session> session;

  void startAs(mux::Role role) {
    auto owned = std::make_unique<ScriptedCarrier>();
    carrier = owned.get();
    session = std::make_unique<mux::Session>(loop, std::move(owned), role, handler);
    session->setDatagramHandler(&flows);
    session->start();
    proto::HelloPayload hello;
    hello.role =
        static_cast<uint8_t>(role == mux::Role::Client ? mux::Role::Server : mux::Role::Client);
    hello.heartbeatMs = 1000;
    uint8_t payload[proto::HelloPayload::kSize];
    proto::encodeHello(hello, payload);
    carrier->inject(FrameType::Hello, 0, payload);
  }
  std::span<const uint8_t> text(std::string_view s) { return proto::textPayload(s); }
};

TEST_F(DatagramSession, ServerHandsValidOpensAndDatagramsToTheHandler) {
  startAs(mux::Role::Server);
  carrier->inject(FrameType::DatagramOpen, 1, text("127.0.0.1:53"));
  carrier->inject(FrameType::Datagram, 1, text("query"));
  carrier->inject(FrameType::Datagram, 1, text(""));  // an empty datagram is one too
  uint8_t idle = proto::encodeFlowClose(proto::FlowCloseReason::IdleTimeout);
  carrier->inject(FrameType::DatagramClose, 1, {&idle, 1});
  ASSERT_EQ(flows.opened, std::vector<uint32_t>{1});
  EXPECT_EQ(flows.targets[0], "127.0.0.1:53");
  ASSERT_EQ(flows.datagrams.size(), 2u);
  EXPECT_EQ(flows.datagrams[0].second, "query");
  EXPECT_EQ(flows.datagrams[1].second, "");
  ASSERT_EQ(flows.closed.size(), 1u);
  EXPECT_EQ(flows.closed[0].second, proto::FlowCloseReason::IdleTimeout);
  EXPECT_TRUE(handler.ended.empty());
}

TEST_F(DatagramSession, ServerRefusesEvenRepeatedOrLowerFlowIds) {
  startAs(mux::Role::Server);
  carrier->inject(FrameType::DatagramOpen, 5, text("a:1"));
  carrier->inject(FrameType::DatagramOpen, 4, text("a:1"));  // server parity
  carrier->inject(FrameType::DatagramOpen, 5, text("a:1"));  // again
  carrier->inject(FrameType::DatagramOpen, 3, text("a:1"));  // below the highest
  EXPECT_EQ(flows.opened, std::vector<uint32_t>{5});
  ASSERT_EQ(carrier->count(FrameType::DatagramClose), 3);
  for (const auto& sent : carrier->sent) {
    if (sent.type == FrameType::DatagramClose) {
      EXPECT_EQ(proto::decodeFlowClose(sent.payload), proto::FlowCloseReason::Refused);
    }
  }
}

TEST_F(DatagramSession, ClientRefusesOpensFromTheServer) {
  startAs(mux::Role::Client);
  carrier->inject(FrameType::DatagramOpen, 1, text("a:1"));
  EXPECT_TRUE(flows.opened.empty());
  EXPECT_EQ(carrier->count(FrameType::DatagramClose), 1);
}

TEST_F(DatagramSession, CongestedCarrierDropsDatagramsButNotControlFrames) {
  startAs(mux::Role::Client);
  session->openFlow(1, "127.0.0.1:53");
  EXPECT_TRUE(session->sendDatagram(1, text("first")));
  carrier->jammed = true;
  EXPECT_FALSE(session->sendDatagram(1, text("dropped")));
  session->closeFlow(1, proto::FlowCloseReason::IdleTimeout);
  carrier->jammed = false;
  EXPECT_TRUE(session->sendDatagram(1, text("after")));
  EXPECT_EQ(carrier->count(FrameType::DatagramOpen), 1);
  EXPECT_EQ(carrier->count(FrameType::Datagram), 2);
  EXPECT_EQ(carrier->count(FrameType::DatagramClose), 1);
}

TEST_F(DatagramSession, OversizedDatagramIsDropped) {
  startAs(mux::Role::Client);
  std::vector<uint8_t> big(proto::kMaxDatagram + 1);
  EXPECT_FALSE(session->sendDatagram(1, big));
  big.pop_back();
  EXPECT_TRUE(session->sendDatagram(1, big));
}

}  // namespace
}  // namespace ferry::test
