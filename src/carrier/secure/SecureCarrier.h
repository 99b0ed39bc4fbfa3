#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carrier/secure/Handshake.h"
#include "carrier/secure/Key.h"
#include "carrier/secure/RecordCipher.h"
#include "io/Loop.h"
#include "io/TickHook.h"
#include "io/Timer.h"
#include "mux/Carrier.h"

namespace ferry::carrier::secure {

struct SecureOptions {
  /// The carrier fails when the peer has not proved the key this long after it is present: from
  /// start(), or from its first frame when the inner carrier's peer may not exist yet (a client
  /// may wait for a server that is not running yet). Zero waits forever.
  io::Duration handshakeTimeout{};
  /// Session bytes queued before the keys exist beyond which congested() is true.
  size_t pendingBudget = 256 * 1024;
  /// Session bytes queued before the keys exist beyond which the carrier fails.
  size_t pendingLimit = 16 * 1024 * 1024;
};

/// A Carrier that authenticates the peer with a pre-shared key and seals every session frame
/// (AEAD), wrapping any other carrier (decorator: it is the inner carrier's listener).
///
/// On start() it sends AUTH_HELLO through the inner carrier, answers the peer's AUTH_HELLO with
/// AUTH_PROOF, and from then on sends each session frame as one SEALED frame on stream 0.
/// Session frames sent before the keys exist wait in a bounded queue. Nothing reaches the
/// listener before the peer's proof checked out, and a record that fails authentication ends
/// the carrier (onCarrierFailed) without any of it being delivered. See docs/security.md.
class SecureCarrier : public mux::Carrier, private mux::CarrierListener {
 public:
  SecureCarrier(io::Loop& loop, mux::CarrierPtr inner, const Key& key, Role role,
                SecureOptions options = {});
  ~SecureCarrier() override;
  SecureCarrier(const SecureCarrier&) = delete;
  SecureCarrier& operator=(const SecureCarrier&) = delete;

  void setListener(mux::CarrierListener* listener) override;
  void start() override;
  void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) override;
  /// Once the keys exist, room inside a SEALED frame of the inner carrier's batch, and commit()
  /// seals the record there; before, the base copy (the frame waits in the pending queue).
  std::span<uint8_t> reserve(proto::FrameType type, uint32_t stream, size_t max) override;
  void commit(size_t n) override;
  bool congested() const override;
  void close(bool peerGone) override;
  std::string describe() const override;
  mux::CarrierInfo info() const override {
    mux::CarrierInfo info = inner_->info();
    info.keyed = true;
    return info;
  }
  bool peerPresentAtStart() const override { return inner_->peerPresentAtStart(); }
  size_t socketReadBudget() const override { return inner_->socketReadBudget(); }
  void creditAwaited() override { inner_->creditAwaited(); }

  /// True once the peer proved that it holds the key.
  bool authenticated() const { return handshake_.state() == Handshake::State::Done; }

 private:
  /// What the last reserve() handed out, so that commit() knows how to finish it.
  enum class Reservation { None, Queued, InPlace };
  struct PendingFrame {
    proto::FrameType type;
    uint32_t stream;
    std::vector<uint8_t> payload;
  };

  void onFrame(const proto::Frame& frame) override;
  void onCarrierFailed(const io::Error& error) override;
  void onCarrierWritable() override;

  void startHandshakeTimer();
  void onPeerHello(const proto::Frame& frame);
  void onPeerProof(const proto::Frame& frame);
  void onSealed(const proto::Frame& frame);
  void sendSealed(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload);
  /// Seals the InPlace reservation's record with its first `n` payload bytes and commits it.
  void sealReserved(size_t n);
  void flushPending();
  /// Reports `reason` once and stops delivering; call only from a callback of the inner carrier
  /// or the loop, never from inside send().
  void fail(const io::Error& error);
  /// fail() at the end of the tick, for failures found inside the session's own call.
  void failLater(io::Error error);
  void reportLateFailure();  // failHook_'s: the listener may destroy this carrier
  bool active() const { return !failed_ && !closed_; }

  io::Loop& loop_;
  mux::CarrierPtr inner_;
  Role role_;
  SecureOptions options_;
  mux::CarrierListener* listener_ = nullptr;
  Handshake handshake_;
  std::optional<RecordCipher> sendCipher_;     // exists once the peer's hello arrived
  std::optional<RecordCipher> receiveCipher_;  // exists once the peer's proof checked out
  std::deque<PendingFrame> pending_;
  Reservation reservation_ = Reservation::None;
  proto::FrameType reservedType_ = proto::FrameType::Data;
  uint32_t reservedStream_ = 0;
  std::span<uint8_t> reservedRecord_;  // InPlace: the inner carrier's room for the whole record
  size_t pendingBytes_ = 0;
  io::Timer handshakeTimer_{loop_};
  bool handshakeTimerStarted_ = false;
  bool failed_ = false;
  bool closed_ = false;
  io::Error lateFailure_;  // for failHook_, after the session's call returned
  io::TickHook failHook_{loop_, [this] { reportLateFailure(); }};
};

/// Handshake timeout that wrap() gives both sides: a peer that cannot prove the key in this time
/// is dropped, so strangers cannot hold server sessions open and a client facing a server with
/// another key (or none) does not wait forever.
constexpr io::Duration kHandshakeTimeout = std::chrono::seconds(10);

/// Wraps `inner` in a SecureCarrier for `role`, with kHandshakeTimeout.
mux::CarrierPtr wrap(io::Loop& loop, mux::CarrierPtr inner, const Key& key, Role role);

}  // namespace ferry::carrier::secure
