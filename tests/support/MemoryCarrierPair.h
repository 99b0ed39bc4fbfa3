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
#include "support/RecordingListener.h"

namespace ferry::test {

/// Hands `frame` to `listener` as a carrier hands over a verified frame.
inline void deliverFrame(mux::CarrierListener& listener, const Frame& frame,
                         uint64_t sequence = 0) {
  proto::Frame out;
  out.header.type = frame.type;
  out.header.stream = frame.stream;
  out.header.length = static_cast<uint32_t>(frame.payload.size());
  out.header.sequence = sequence;
  out.payload = frame.payload;
  listener.onFrame(out);
}

/// Two in-memory Carriers wired to each other through the loop: a frame sent on one side is
/// delivered to the other side's listener by a deferred callback, in order, like a real carrier
/// that writes at the end of the tick; frames that arrive before start() wait for it. Closing one
/// end fails the other after what was sent before the close (a Bye) arrived.
///
/// A tap per direction sees each frame in transit and may drop, alter, duplicate, hold back or
/// add frames (silence() drops them all, a hung peer); inject() delivers a frame that the peer
/// never sent, as a stranger writing into the share would.
class MemoryCarrierPair {
 public:
  enum Side { kClient = 0, kServer = 1 };
  using Deliver = std::function<void(Frame)>;
  /// Sees each frame that `from` sends; calls deliver() for what should arrive.
  using Tap = std::function<void(Frame frame, const Deliver& deliver)>;

  explicit MemoryCarrierPair(io::Loop& loop) : state_(std::make_shared<State>(loop)) {}

  /// The carrier of `side`; call once per side.
  mux::CarrierPtr take(Side side) { return std::make_unique<End>(state_, side); }
  /// Both carriers, client first.
  std::pair<mux::CarrierPtr, mux::CarrierPtr> takeBoth() { return {take(kClient), take(kServer)}; }
  void setTap(Side from, Tap tap) { state_->taps[from] = std::move(tap); }
  /// Everything `from` sends from now on is lost.
  void silence(Side from) {
    setTap(from, [](Frame, const Deliver&) {});
  }
  /// Delivers `frame` to `to` at the end of the tick, as if its peer had sent it.
  void inject(Side to, Frame frame) { State::post(state_, to, std::move(frame)); }
  /// Everything `from` sent, before the tap, in order.
  const std::vector<Frame>& carried(Side from) const { return state_->carried[from]; }
  bool closed(Side side) const { return state_->closed[side]; }
  /// The client end then reports that its peer may not exist yet, like an unclaimed directory
  /// session.
  void setClientAwaitsPeer() { state_->clientAwaitsPeer = true; }
  /// What both ends answer to socketReadBudget(), as a share's carrier would.
  void setSocketReadBudget(size_t bytes) { state_->socketReadBudget = bytes; }
  /// How often `side`'s session told its carrier that it awaits credit (Carrier::creditAwaited).
  int creditAwaitedCalls(Side side) const { return state_->creditAwaitedCalls[side]; }

 private:
  class End;

  struct State {
    explicit State(io::Loop& l) : loop(l) {}

    io::Loop& loop;
    End* ends[2] = {nullptr, nullptr};
    Tap taps[2];
    std::vector<Frame> carried[2];
    uint64_t nextSequence[2] = {0, 0};
    bool closed[2] = {false, false};
    bool clientAwaitsPeer = false;
    size_t socketReadBudget = mux::Carrier::kDefaultSocketReadBudget;
    int creditAwaitedCalls[2] = {0, 0};

    static void post(const std::shared_ptr<State>& state, Side to, Frame frame) {
      state->loop.defer([state, to, frame = std::move(frame)] {
        // A closed or destroyed end reads nothing more, like a real carrier.
        if (state->ends[to] != nullptr && !state->closed[to]) {
          state->ends[to]->deliver(frame);
        }
      });
    }
    /// After the frames already on their way: `to` learns that its peer closed.
    static void postClose(const std::shared_ptr<State>& state, Side to) {
      state->loop.defer([state, to] {
        if (state->ends[to] != nullptr && !state->closed[to]) {
          state->closed[to] = true;
          state->ends[to]->fail(io::Error{.message = "the peer closed the channel"});
        }
      });
    }
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
      std::deque<Frame> early;
      early.swap(inbox_);
      for (const Frame& frame : early) {
        deliver(frame);
      }
    }
    void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) override {
      if (state_->closed[side_]) {
        return;
      }
      Frame frame{type, stream, {payload.begin(), payload.end()}};
      state_->carried[side_].push_back(frame);
      std::shared_ptr<State> state = state_;
      Deliver deliver = [state, to = peer()](Frame out) { State::post(state, to, std::move(out)); };
      if (state_->taps[side_]) {
        state_->taps[side_](std::move(frame), deliver);
      } else {
        deliver(std::move(frame));
      }
    }
    bool congested() const override { return false; }
    void close(bool) override {
      if (!state_->closed[side_]) {
        state_->closed[side_] = true;
        State::postClose(state_, peer());
      }
    }
    std::string describe() const override {
      return side_ == kClient ? "memory client" : "memory server";
    }
    bool peerPresentAtStart() const override {
      return side_ == kServer || !state_->clientAwaitsPeer;
    }
    size_t socketReadBudget() const override { return state_->socketReadBudget; }
    void creditAwaited() override { state_->creditAwaitedCalls[side_]++; }

    /// Hands `frame` to the listener, numbered like a real carrier's verified frames.
    void deliver(const Frame& frame) {
      if (!started_) {
        inbox_.push_back(frame);
      } else if (listener_ != nullptr) {
        deliverFrame(*listener_, frame, state_->nextSequence[side_]++);
      }
    }
    void fail(const io::Error& error) {
      if (listener_ != nullptr) {
        listener_->onCarrierFailed(error);
      }
    }

   private:
    Side peer() const { return side_ == kClient ? kServer : kClient; }

    std::shared_ptr<State> state_;
    Side side_;
    mux::CarrierListener* listener_ = nullptr;
    std::deque<Frame> inbox_;  // arrived before start()
    bool started_ = false;
  };

  std::shared_ptr<State> state_;
};

}  // namespace ferry::test
