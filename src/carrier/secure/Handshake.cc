#include "carrier/secure/Handshake.h"

#include <sodium.h>

#include <cstring>

#include <fmt/format.h>

#include "carrier/secure/Sodium.h"

namespace ferry::carrier::secure {
namespace {

// crypto_kdf contexts: exactly 8 characters each, one per derived key, so that no key can stand
// in for another (a client proof is never a server proof, a c->s key never an s->c key).
constexpr char kContextClientToServer[] = "ferryC2S";
constexpr char kContextServerToClient[] = "ferryS2C";
constexpr char kContextClientProof[] = "ferryPfC";
constexpr char kContextServerProof[] = "ferryPfS";
static_assert(sizeof kContextClientToServer - 1 == crypto_kdf_CONTEXTBYTES);
static_assert(Handshake::kKeySize == crypto_kdf_KEYBYTES);
static_assert(Handshake::kProofSize == crypto_auth_BYTES);
static_assert(Handshake::kKeySize == crypto_auth_KEYBYTES);
// Domain label hashed in front of the nonces, so the session secret is specific to ferry v1.
constexpr char kSessionLabel[] = "ferry psk session v1";

}  // namespace

Handshake::Handshake(const Key& key, Role role) : role_(role), key_(key) {
  ensureSodium();
  randombytes_buf(nonce_.data(), nonce_.size());
}

Handshake::~Handshake() {
  wipe();
}

void Handshake::wipe() {
  sodium_memzero(sendKey_.data(), sendKey_.size());
  sodium_memzero(receiveKey_.data(), receiveKey_.size());
  sodium_memzero(peerProofKey_.data(), peerProofKey_.size());
}

Handshake::Payload Handshake::hello() const {
  Payload payload(kHelloSize, 0);
  payload[0] = kAuthVersion;
  payload[1] = static_cast<uint8_t>(role_);
  std::memcpy(payload.data() + 4, nonce_.data(), kNonceSize);
  return payload;
}

std::unexpected<io::Error> Handshake::fail(std::string reason) {
  state_ = State::Failed;
  wipe();
  return std::unexpected(io::Error{EPROTO, std::move(reason)});
}

io::Result<Handshake::Payload> Handshake::onPeerHello(std::span<const uint8_t> payload) {
  if (state_ != State::AwaitHello) {
    return fail("unexpected AUTH_HELLO: the peer already sent one");
  }
  if (payload.size() != kHelloSize) {
    return fail(
        fmt::format("AUTH_HELLO payload is {} bytes, expected {}", payload.size(), kHelloSize));
  }
  if (payload[0] != kAuthVersion) {
    return fail(
        fmt::format("peer speaks key-auth version {}, this side {}", payload[0], kAuthVersion));
  }
  Role expected = otherRole(role_);
  if (payload[1] != static_cast<uint8_t>(expected)) {
    return fail(
        fmt::format("peer AUTH_HELLO claims role {}, expected {} (two {}s, or this "
                    "side's own frames reflected back)",
                    payload[1], static_cast<int>(expected), roleName(role_)));
  }
  Bytes32 peerNonce;
  std::memcpy(peerNonce.data(), payload.data() + 4, kNonceSize);
  if (sodium_memcmp(peerNonce.data(), nonce_.data(), kNonceSize) == 0) {
    return fail("peer AUTH_HELLO repeats this side's nonce");
  }
  clientNonce_ = role_ == Role::Client ? nonce_ : peerNonce;
  serverNonce_ = role_ == Role::Client ? peerNonce : nonce_;
  Bytes32 proof = deriveKeys();
  state_ = State::AwaitProof;
  return Payload(proof.begin(), proof.end());
}

Handshake::Bytes32 Handshake::deriveKeys() {
  // session = BLAKE2b-256 keyed with the pre-shared key over (label, client nonce, server
  // nonce): fresh for every pair of nonces, unknowable without the key.
  Bytes32 session;
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_.bytes().data(), Key::kSize, session.size());
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(kSessionLabel),
                            sizeof kSessionLabel - 1);
  crypto_generichash_update(&state, clientNonce_.data(), kNonceSize);
  crypto_generichash_update(&state, serverNonce_.data(), kNonceSize);
  crypto_generichash_final(&state, session.data(), session.size());
  sodium_memzero(&state, sizeof state);
  key_ = Key();  // the long-term key is not needed again by this handshake

  bool client = role_ == Role::Client;
  Bytes32 ownProofKey;
  crypto_kdf_derive_from_key(sendKey_.data(), kKeySize, 1,
                             client ? kContextClientToServer : kContextServerToClient,
                             session.data());
  crypto_kdf_derive_from_key(receiveKey_.data(), kKeySize, 1,
                             client ? kContextServerToClient : kContextClientToServer,
                             session.data());
  crypto_kdf_derive_from_key(ownProofKey.data(), kKeySize, 1,
                             client ? kContextClientProof : kContextServerProof, session.data());
  crypto_kdf_derive_from_key(peerProofKey_.data(), kKeySize, 1,
                             client ? kContextServerProof : kContextClientProof, session.data());
  sodium_memzero(session.data(), session.size());

  ProofMessage message = proofMessage(role_);
  Bytes32 proof;
  crypto_auth(proof.data(), message.data(), message.size(), ownProofKey.data());
  sodium_memzero(ownProofKey.data(), ownProofKey.size());
  return proof;
}

Handshake::ProofMessage Handshake::proofMessage(Role role) const {
  ProofMessage message{};
  message[0] = static_cast<uint8_t>(role);
  std::memcpy(message.data() + 1, clientNonce_.data(), kNonceSize);
  std::memcpy(message.data() + 1 + kNonceSize, serverNonce_.data(), kNonceSize);
  return message;
}

io::Result<void> Handshake::onPeerProof(std::span<const uint8_t> payload) {
  if (state_ != State::AwaitProof) {
    return fail(state_ == State::AwaitHello ? "unexpected AUTH_PROOF before the peer's AUTH_HELLO"
                                            : "unexpected AUTH_PROOF: the peer already sent one");
  }
  ProofMessage message = proofMessage(otherRole(role_));
  if (payload.size() != kProofSize ||
      crypto_auth_verify(payload.data(), message.data(), message.size(), peerProofKey_.data()) !=
          0) {
    return fail("peer failed key proof: wrong key or replayed session");
  }
  sodium_memzero(peerProofKey_.data(), peerProofKey_.size());
  state_ = State::Done;
  return {};
}

}  // namespace ferry::carrier::secure
