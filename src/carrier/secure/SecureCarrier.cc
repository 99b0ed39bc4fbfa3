#include "carrier/secure/SecureCarrier.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "io/Bug.h"
#include "io/Log.h"

namespace ferry::carrier::secure {
namespace {

Direction sendDirection(Role role) {
  return role == Role::Client ? Direction::ClientToServer : Direction::ServerToClient;
}

Direction receiveDirection(Role role) {
  return role == Role::Client ? Direction::ServerToClient : Direction::ClientToServer;
}

}  // namespace

SecureCarrier::SecureCarrier(io::Loop& loop, mux::CarrierPtr inner, const Key& key, Role role,
                             SecureOptions options)
    : loop_(loop), inner_(std::move(inner)), role_(role), options_(options), handshake_(key, role) {
  inner_->setListener(this);
}

SecureCarrier::~SecureCarrier() = default;

void SecureCarrier::setListener(mux::CarrierListener* listener) {
  listener_ = listener;
}

void SecureCarrier::start() {
  if (inner_->peerPresentAtStart()) {
    startHandshakeTimer();
  }
  // Hello first, then start: the same order as the session, so the hello leaves in the first
  // batch whatever the inner carrier.
  inner_->send(proto::FrameType::AuthHello, 0, handshake_.hello());
  inner_->start();
}

void SecureCarrier::startHandshakeTimer() {
  if (options_.handshakeTimeout <= io::Duration::zero() || handshakeTimerStarted_) {
    return;
  }
  handshakeTimerStarted_ = true;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.handshakeTimeout);
  handshakeTimer_.armAfter(options_.handshakeTimeout, [this, ms] {
    fail(io::Error{
        ETIMEDOUT,
        role_ == Role::Client
            ? fmt::format("the server did not complete the key handshake within {} ms: does it "
                          "run with the same --key-file?",
                          ms.count())
            : fmt::format("the peer did not prove the key within {} ms", ms.count())});
  });
}

void SecureCarrier::send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
  if (!active()) {
    return;
  }
  if (sendCipher_) {
    sendSealed(type, stream, payload);
    return;
  }
  size_t cost = payload.size() + RecordCipher::kOverhead;
  if (pendingBytes_ + cost > options_.pendingLimit) {
    failLater(io::Error{
        .message = fmt::format("more than {} bytes of session frames queued before the peer "
                               "answered the key handshake",
                               options_.pendingLimit)});
    return;
  }
  pending_.push_back({type, stream, {payload.begin(), payload.end()}});
  pendingBytes_ += cost;
}

std::span<uint8_t> SecureCarrier::reserve(proto::FrameType type, uint32_t stream, size_t max) {
  reservation_ = Reservation::None;
  if (!active()) {
    return {};
  }
  if (!sendCipher_) {
    reservation_ = Reservation::Queued;
    return mux::Carrier::reserve(type, stream, max);
  }
  max = std::min(max, RecordCipher::kMaxPayload);
  reservedRecord_ = inner_->reserve(proto::FrameType::Sealed, 0, max + RecordCipher::kOverhead);
  if (reservedRecord_.empty()) {
    inner_->commit(0);
    return {};
  }
  reservation_ = Reservation::InPlace;
  reservedType_ = type;
  reservedStream_ = stream;
  return reservedRecord_.subspan(RecordCipher::kHeaderSize, max);
}

void SecureCarrier::commit(size_t n) {
  Reservation reservation = std::exchange(reservation_, Reservation::None);
  if (reservation == Reservation::Queued) {
    mux::Carrier::commit(n);
  } else if (reservation == Reservation::InPlace) {
    if (n == 0) {
      inner_->commit(0);
    } else {
      sealReserved(n);
    }
  }
}

void SecureCarrier::sealReserved(size_t n) {
  FERRY_CHECK(n + RecordCipher::kOverhead <= reservedRecord_.size(),
              "sealing {} payload bytes into a reserved record of {} bytes", n,
              reservedRecord_.size());
  std::span<uint8_t> record = reservedRecord_.first(n + RecordCipher::kOverhead);
  if (!sendCipher_->sealInPlace(reservedType_, reservedStream_, record)) {
    inner_->commit(0);
    failLater(
        io::Error{.message = fmt::format("{} frame could not be sealed (record counter spent)",
                                         proto::frameTypeName(reservedType_))});
    return;
  }
  inner_->commit(record.size());
}

bool SecureCarrier::congested() const {
  return pendingBytes_ > options_.pendingBudget || inner_->congested();
}

void SecureCarrier::close(bool peerGone) {
  if (closed_) {
    return;
  }
  closed_ = true;
  handshakeTimer_.cancel();
  // Frames still queued have no keys to be sealed with, and must never leave in plaintext.
  pending_.clear();
  pendingBytes_ = 0;
  inner_->close(peerGone);
}

std::string SecureCarrier::describe() const {
  return fmt::format("{} (pre-shared key)", inner_->describe());
}

void SecureCarrier::onFrame(const proto::Frame& frame) {
  if (!active()) {
    return;
  }
  startHandshakeTimer();  // the peer is present now, if it was not at start()
  const proto::FrameHeader& header = frame.header;
  if (header.stream != 0) {
    fail(io::protocolError(
        fmt::format("{} frame on stream {}: with a key every frame travels on stream 0",
                    proto::frameTypeName(header.type), header.stream)));
    return;
  }
  switch (header.type) {
    case proto::FrameType::AuthHello:
      onPeerHello(frame);
      return;
    case proto::FrameType::AuthProof:
      onPeerProof(frame);
      return;
    case proto::FrameType::Sealed:
      onSealed(frame);
      return;
    default:
      fail(io::protocolError(
          fmt::format("unexpected {} frame: with a key the peer sends only AUTH_HELLO, "
                      "AUTH_PROOF and SEALED frames (does the peer run without --key-file?)",
                      proto::frameTypeName(header.type))));
      return;
  }
}

void SecureCarrier::onPeerHello(const proto::Frame& frame) {
  auto proof = handshake_.onPeerHello(frame.payload);
  if (!proof) {
    fail(proof.error());
    return;
  }
  inner_->send(proto::FrameType::AuthProof, 0, *proof);
  // Records sealed from here on can only be read by a holder of the key, and they are bound to
  // this side's fresh nonce, so they may leave before the peer's proof arrives.
  sendCipher_.emplace(handshake_.sendKey(), sendDirection(role_));
  flushPending();
}

void SecureCarrier::onPeerProof(const proto::Frame& frame) {
  auto proved = handshake_.onPeerProof(frame.payload);
  if (!proved) {
    fail(proved.error());
    return;
  }
  receiveCipher_.emplace(handshake_.receiveKey(), receiveDirection(role_));
  handshakeTimer_.cancel();
  spdlog::debug("{}: peer proved the pre-shared key", inner_->describe());
}

void SecureCarrier::onSealed(const proto::Frame& frame) {
  if (!receiveCipher_) {
    fail(io::protocolError(handshake_.state() == Handshake::State::AwaitHello
                               ? "SEALED record before the peer's AUTH_HELLO"
                               : "SEALED record before the peer proved the key"));
    return;
  }
  uint64_t number = receiveCipher_->counter();
  std::optional<RecordCipher::Opened> opened = receiveCipher_->open(frame.payload);
  if (!opened) {
    fail(io::protocolError(
        fmt::format("record {} failed authentication (tampered, forged, dropped, replayed or "
                    "reordered)",
                    number)));
    return;
  }
  if (!proto::isSessionFrameType(static_cast<uint8_t>(opened->type))) {
    fail(
        io::protocolError(fmt::format("record {} holds frame type {}, which is not a session frame",
                                      number, static_cast<int>(opened->type))));
    return;
  }
  proto::Frame inner;
  inner.header.type = opened->type;
  inner.header.stream = opened->stream;
  inner.header.length = static_cast<uint32_t>(opened->payload.size());
  inner.header.sequence = number;
  inner.payload = opened->payload;
  if (listener_ != nullptr) {
    listener_->onFrame(inner);
  }
}

void SecureCarrier::onCarrierFailed(const io::Error& error) {
  if (!active()) {
    return;
  }
  if (role_ == Role::Client && !authenticated()) {
    fail(io::Error{error.code, error.message +
                                   " (before the key handshake completed: does the server run "
                                   "with the same --key-file?)"});
    return;
  }
  fail(error);
}

void SecureCarrier::onCarrierWritable() {
  if (active() && listener_ != nullptr && !congested()) {
    listener_->onCarrierWritable();
  }
}

void SecureCarrier::sendSealed(proto::FrameType type, uint32_t stream,
                               std::span<const uint8_t> payload) {
  if (payload.size() > RecordCipher::kMaxPayload) {
    failLater(io::Error{
        EMSGSIZE,
        fmt::format("{} frame of {} bytes could not be sealed (at most {} bytes fit a record)",
                    proto::frameTypeName(type), payload.size(), RecordCipher::kMaxPayload)});
    return;
  }
  // The one copy of a control frame's payload, into the inner batch where it is sealed.
  std::span<uint8_t> room = reserve(type, stream, payload.size());
  if (std::exchange(reservation_, Reservation::None) != Reservation::InPlace) {
    return;  // the inner carrier takes nothing now
  }
  if (!payload.empty()) {
    std::memcpy(room.data(), payload.data(), payload.size());
  }
  sealReserved(payload.size());  // an empty payload too, unlike commit(0)
}

void SecureCarrier::flushPending() {
  bool wasCongested = congested();
  while (!pending_.empty() && active()) {
    PendingFrame& frame = pending_.front();
    sendSealed(frame.type, frame.stream, frame.payload);
    pending_.pop_front();
  }
  pending_.clear();
  pendingBytes_ = 0;
  if (wasCongested && active() && listener_ != nullptr && !congested()) {
    listener_->onCarrierWritable();
  }
}

void SecureCarrier::fail(const io::Error& error) {
  if (!active()) {
    return;
  }
  failed_ = true;
  handshakeTimer_.cancel();
  if (listener_ != nullptr) {
    listener_->onCarrierFailed(error);
  }
}

void SecureCarrier::failLater(io::Error error) {
  if (!active()) {
    return;
  }
  // Stop at once (nothing more is sent or delivered), report once the session's call returned.
  failed_ = true;
  handshakeTimer_.cancel();
  lateFailure_ = std::move(error);
  failHook_.request();
}

void SecureCarrier::reportLateFailure() {
  io::Error error = std::move(lateFailure_);  // outlives this carrier, if the listener ends it
  if (!closed_ && listener_ != nullptr) {
    listener_->onCarrierFailed(error);
  }
}

mux::CarrierPtr wrap(io::Loop& loop, mux::CarrierPtr inner, const Key& key, Role role) {
  SecureOptions options;
  options.handshakeTimeout = kHandshakeTimeout;
  return std::make_unique<SecureCarrier>(loop, std::move(inner), key, role, options);
}

}  // namespace ferry::carrier::secure
