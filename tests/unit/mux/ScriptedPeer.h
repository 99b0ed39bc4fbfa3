#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/MemoryCarrierPair.h"
#include "support/SessionBehaviour.h"

namespace ferry::test {

/// One session whose peer is the test, speaking through `peer` (the other end of the pair).
struct ScriptedPeer {
  io::Loop loop;
  MemoryCarrierPair pair{loop};  // the session holds its kClient end, `peer` the other
  TestHandler handler;
  mux::CarrierPtr peer;
  std::unique_ptr<mux::Session> session;

  explicit ScriptedPeer(mux::Role role, mux::SessionConfig config = {},
                        bool presentAtStart = true) {
    if (!presentAtStart) {
      pair.setClientAwaitsPeer();
    }
    peer = pair.take(MemoryCarrierPair::kServer);
    peer->start();
    session = std::make_unique<mux::Session>(loop, pair.take(MemoryCarrierPair::kClient), role,
                                             handler, config);
    peer->setListener(&sink);
    session->start();
  }
  void hello(uint16_t version, mux::Role role, uint32_t heartbeatMs = 1000) {
    proto::HelloPayload hello;
    hello.version = version;
    hello.role = static_cast<uint8_t>(role);
    hello.heartbeatMs = heartbeatMs;
    uint8_t payload[proto::HelloPayload::kSize];
    proto::encodeHello(hello, payload);
    peer->send(proto::FrameType::Hello, 0, payload);
  }

  /// Records the frames the session sends.
  struct Sink : mux::CarrierListener {
    std::vector<proto::FrameHeader> frames;
    std::vector<std::string> payloads;
    bool failed = false;
    void onFrame(const proto::Frame& frame) override {
      frames.push_back(frame.header);
      payloads.emplace_back(reinterpret_cast<const char*>(frame.payload.data()),
                            frame.payload.size());
    }
    void onCarrierFailed(const io::Error&) override { failed = true; }
    void onCarrierWritable() override {}
    int count(proto::FrameType type) const {
      int n = 0;
      for (const auto& header : frames) {
        n += header.type == type ? 1 : 0;
      }
      return n;
    }
  } sink;
};

}  // namespace ferry::test
