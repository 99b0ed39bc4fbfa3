#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "carrier/secure/Key.h"
#include "io/Error.h"
#include "mux/Role.h"

namespace ferry::carrier::secure {

/// Which end of the session this side is: its number is the role byte of AUTH_HELLO.
using mux::Role;

/// The pre-shared-key handshake as pure logic (no I/O): nonces in, proofs and keys out.
///
/// Each side sends AUTH_HELLO (its role and a fresh 32-byte nonce). From the peer's hello it
/// derives, from the key and both nonces (client's first), a key per direction and a proof key
/// per role, and answers with AUTH_PROOF, a MAC over (role, client nonce, server nonce). The
/// peer's proof is checked in constant time. A peer without the key cannot make a proof, and a
/// recorded proof is useless against a fresh nonce. See docs/security.md.
class Handshake {
 public:
  static constexpr uint8_t kAuthVersion = 1;
  static constexpr size_t kNonceSize = 32;
  static constexpr size_t kKeySize = 32;
  /// AUTH_HELLO payload: version u8 | role u8 | reserved u16 (0) | nonce.
  static constexpr size_t kHelloSize = 4 + kNonceSize;
  /// AUTH_PROOF payload: HMAC-SHA-512-256 tag.
  static constexpr size_t kProofSize = 32;

  enum class State { AwaitHello, AwaitProof, Done, Failed };
  using Payload = std::vector<uint8_t>;

  /// Draws this side's nonce (randombytes_buf). `key` is copied; it is wiped on destruction.
  Handshake(const Key& key, Role role);
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  /// This side's AUTH_HELLO payload.
  Payload hello() const;
  /// Takes the peer's AUTH_HELLO; returns this side's AUTH_PROOF payload. Afterwards sendKey()
  /// and receiveKey() are valid (records may be sealed; nothing may be accepted yet).
  /// A peer that breaks the handshake gets an error (code EPROTO) and the state Failed.
  io::Result<Payload> onPeerHello(std::span<const uint8_t> payload);
  /// Takes the peer's AUTH_PROOF; on success the peer is known to hold the key (state Done).
  io::Result<void> onPeerProof(std::span<const uint8_t> payload);

  State state() const { return state_; }
  Role role() const { return role_; }
  std::span<const uint8_t, kKeySize> sendKey() const { return sendKey_; }
  std::span<const uint8_t, kKeySize> receiveKey() const { return receiveKey_; }

 private:
  using Bytes32 = std::array<uint8_t, kKeySize>;
  using ProofMessage = std::array<uint8_t, 1 + 2 * kNonceSize>;
  std::unexpected<io::Error> fail(std::string reason);
  /// Derives the direction keys and the peer's proof key; returns this side's proof.
  Bytes32 deriveKeys();
  /// What a proof of `role` covers: role u8 | client nonce | server nonce.
  ProofMessage proofMessage(Role role) const;
  void wipe();

  Role role_;
  State state_ = State::AwaitHello;
  Key key_;
  Bytes32 nonce_{};
  Bytes32 clientNonce_{};
  Bytes32 serverNonce_{};
  Bytes32 sendKey_{};
  Bytes32 receiveKey_{};
  Bytes32 peerProofKey_{};
};

}  // namespace ferry::carrier::secure
