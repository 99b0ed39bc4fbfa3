#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::test {

/// An in-memory Carrier: frames sent on one end of a pair reach the other end's listener at the
/// end of the tick, like a real carrier's batch. Closing one end fails the other after the frames
/// sent before the close (a Bye) arrived. `silent` drops everything sent, to fake a hung peer.
class MemoryCarrier : public mux::Carrier {
 public:
  struct Pair {
    std::unique_ptr<MemoryCarrier> a;
    std::unique_ptr<MemoryCarrier> b;
  };
  static Pair makePair(io::Loop& loop) {
    Pair pair{std::make_unique<MemoryCarrier>(loop), std::make_unique<MemoryCarrier>(loop)};
    pair.a->peer_ = pair.b.get();
    pair.b->peer_ = pair.a.get();
    return pair;
  }

  explicit MemoryCarrier(io::Loop& loop) : loop_(loop) {}
  ~MemoryCarrier() override {
    if (peer_ != nullptr) {
      peer_->peer_ = nullptr;
    }
  }

  void setListener(mux::CarrierListener* listener) override { listener_ = listener; }
  void start() override { started_ = true; }
  void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) override {
    if (closed_ || silent) {
      return;
    }
    framesSent++;
    queued_.push_back({type, stream, {payload.begin(), payload.end()}});
    scheduleDelivery();
  }
  bool congested() const override { return false; }
  void close(bool peerGone) override {
    if (closed_) {
      return;
    }
    closed_ = true;
    closedWithPeerGone = peerGone;
    closeQueued_ = true;
    scheduleDelivery();
  }
  std::string describe() const override { return "memory"; }
  bool peerPresentAtStart() const override { return presentAtStart; }

  /// Hands a frame to this end's listener as if the peer had sent it.
  void inject(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
    proto::Frame frame;
    frame.header.type = type;
    frame.header.stream = stream;
    frame.header.length = static_cast<uint32_t>(payload.size());
    frame.payload = payload;
    listener_->onFrame(frame);
  }

  bool closed() const { return closed_; }
  bool silent = false;
  bool presentAtStart = true;  // false: fakes a published directory session nobody claimed
  bool closedWithPeerGone = false;
  uint64_t framesSent = 0;

 private:
  struct Queued {
    proto::FrameType type;
    uint32_t stream;
    std::vector<uint8_t> payload;
  };

  void scheduleDelivery() {
    if (scheduled_) {
      return;
    }
    scheduled_ = true;
    loop_.defer([this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) {
        deliver();
      }
    });
  }
  void deliver() {
    scheduled_ = false;
    std::vector<Queued> frames;
    frames.swap(queued_);
    for (Queued& queued : frames) {
      if (peer_ == nullptr || !peer_->started_ || peer_->closed_) {
        return;
      }
      peer_->inject(queued.type, queued.stream, queued.payload);
    }
    if (closeQueued_ && peer_ != nullptr && !peer_->closed_) {
      closeQueued_ = false;
      peer_->closed_ = true;
      peer_->listener_->onCarrierFailed("the peer closed the channel");
    }
  }

  io::Loop& loop_;
  MemoryCarrier* peer_ = nullptr;
  mux::CarrierListener* listener_ = nullptr;
  std::vector<Queued> queued_;
  bool started_ = false;
  bool closed_ = false;
  bool closeQueued_ = false;
  bool scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ferry::test
