#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::secure::test {

/// One frame as it travels between the fake carriers.
struct WireFrame {
  proto::FrameType type = proto::FrameType::Data;
  uint32_t stream = 0;
  std::vector<uint8_t> payload;
};

/// Two in-memory Carriers wired to each other through the loop: a frame sent on one side is
/// delivered to the other side's listener by a deferred callback, in order, like a real carrier
/// that writes at the end of the tick. A tap per direction sees each frame in transit and may
/// drop, alter, duplicate, hold back or add frames; inject() delivers a frame that the peer never
/// sent, as a stranger writing into the share would.
class FakePair {
 public:
  enum Side { kClient = 0, kServer = 1 };
  using Deliver = std::function<void(WireFrame)>;
  /// Sees each frame that `from` sends; calls deliver() for what should arrive.
  using Tap = std::function<void(WireFrame frame, const Deliver& deliver)>;

  explicit FakePair(io::Loop& loop) : state_(std::make_shared<State>(loop)) {}

  /// The carrier of `side`; call once per side.
  mux::CarrierPtr take(Side side) { return std::make_unique<End>(state_, side); }
  void setTap(Side from, Tap tap) { state_->taps[from] = std::move(tap); }
  /// Delivers `frame` to `to` at the end of the tick, as if its peer had sent it.
  void inject(Side to, WireFrame frame) { State::post(state_, to, std::move(frame)); }
  /// Everything `from` sent, before the tap, in order.
  const std::vector<WireFrame>& carried(Side from) const { return state_->carried[from]; }
  bool closed(Side side) const { return state_->closed[side]; }
  /// The client end then reports that its peer may not exist yet, like an unclaimed directory
  /// session.
  void setClientAwaitsPeer() { state_->clientAwaitsPeer = true; }

 private:
  class End;

  struct State {
    explicit State(io::Loop& l) : loop(l) {}

    io::Loop& loop;
    End* ends[2] = {nullptr, nullptr};
    Tap taps[2];
    std::vector<WireFrame> carried[2];
    std::deque<WireFrame> inbox[2];  // arrived before the receiving end started
    uint64_t nextSequence[2] = {0, 0};
    bool closed[2] = {false, false};
    bool clientAwaitsPeer = false;

    static void post(const std::shared_ptr<State>& state, Side to, WireFrame frame) {
      state->loop.defer([state, to, frame = std::move(frame)] { state->arrive(to, frame); });
    }

    void arrive(Side to, const WireFrame& frame);
  };

  class End : public mux::Carrier {
   public:
    End(std::shared_ptr<State> state, Side side) : state_(std::move(state)), side_(side) {
      state_->ends[side_] = this;
    }
    ~End() override { state_->ends[side_] = nullptr; }

    void setListener(mux::CarrierListener* listener) override { listener_ = listener; }
    void start() override {
      started_ = true;
      while (!state_->inbox[side_].empty()) {
        WireFrame frame = std::move(state_->inbox[side_].front());
        state_->inbox[side_].pop_front();
        state_->arrive(side_, frame);
      }
    }
    void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) override {
      if (state_->closed[side_]) {
        return;
      }
      WireFrame frame{type, stream, {payload.begin(), payload.end()}};
      state_->carried[side_].push_back(frame);
      Side to = side_ == kClient ? kServer : kClient;
      std::shared_ptr<State> state = state_;
      Deliver deliver = [state, to](WireFrame out) { State::post(state, to, std::move(out)); };
      if (state_->taps[side_]) {
        state_->taps[side_](std::move(frame), deliver);
      } else {
        deliver(std::move(frame));
      }
    }
    bool congested() const override { return false; }
    void close(bool) override { state_->closed[side_] = true; }
    std::string describe() const override {
      return side_ == kClient ? "fake client" : "fake server";
    }
    bool peerPresentAtStart() const override {
      return side_ == kServer || !state_->clientAwaitsPeer;
    }

    /// Hands `frame` to the listener, numbered like a real carrier's verified frames.
    void deliver(const WireFrame& frame) {
      if (!started_) {
        state_->inbox[side_].push_back(frame);
        return;
      }
      if (listener_ == nullptr) {
        return;
      }
      proto::Frame out;
      out.header.type = frame.type;
      out.header.stream = frame.stream;
      out.header.length = static_cast<uint32_t>(frame.payload.size());
      out.header.sequence = state_->nextSequence[side_]++;
      out.payload = frame.payload;
      listener_->onFrame(out);
    }

   private:
    std::shared_ptr<State> state_;
    Side side_;
    mux::CarrierListener* listener_ = nullptr;
    bool started_ = false;
  };

  std::shared_ptr<State> state_;
};

inline void FakePair::State::arrive(Side to, const WireFrame& frame) {
  // A closed or destroyed end reads nothing more, like a real carrier.
  if (ends[to] != nullptr && !closed[to]) {
    ends[to]->deliver(frame);
  }
}

}  // namespace ferry::carrier::secure::test
