#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "io/Buffer.h"
#include "proto/Frame.h"

// OpenSSL's cipher context, kept opaque here so that only RecordCipher.cc includes OpenSSL.
struct evp_cipher_ctx_st;

namespace ferry::carrier::secure {

/// Which way records travel; bound into every record's additional data.
enum class Direction : uint8_t { ClientToServer = 1, ServerToClient = 2 };

/// Seals or opens the session frames of one direction with ChaCha20-Poly1305 (IETF, RFC 8439),
/// through OpenSSL's EVP interface (2.5x libsodium's speed on x86-64 with AVX2/AVX-512).
///
/// Record n (counted from 0 per direction and key) is sealed with nonce = n as u64
/// little-endian followed by four zero bytes, and additional data = (auth version, direction).
/// The counter is never transmitted: both ends count, so a dropped, repeated, reordered or
/// injected record fails authentication at the first record out of place. Each key is used by
/// one RecordCipher only, so a nonce never repeats under a key.
class RecordCipher {
 public:
  static constexpr size_t kKeySize = 32;
  /// Plaintext header: inner frame type u8 | stream u32.
  static constexpr size_t kHeaderSize = 5;
  static constexpr size_t kTagSize = 16;
  static constexpr size_t kOverhead = kHeaderSize + kTagSize;
  /// Largest session payload that still fits one frame once sealed, in bytes.
  static constexpr size_t kMaxPayload = proto::kMaxPayload - kOverhead;

  struct Opened {
    proto::FrameType type;
    uint32_t stream;
    std::span<const uint8_t> payload;  // valid until the next open()
  };

  /// Sets up the cipher with `key` once (the caller's copy is not kept; OpenSSL wipes its key
  /// schedule when the context is freed). Throws std::runtime_error if OpenSSL cannot, which
  /// happens only at start-up (no such cipher in the library), never because of peer bytes.
  RecordCipher(std::span<const uint8_t, kKeySize> key, Direction direction);
  ~RecordCipher();
  RecordCipher(const RecordCipher&) = delete;
  RecordCipher& operator=(const RecordCipher&) = delete;

  /// Seals the next record straight from `payload` (no plaintext copy) into a buffer that is
  /// reused from record to record; the bytes are valid until the next seal(). nullopt, and
  /// nothing counted, when the payload exceeds kMaxPayload or the counter is spent (2^64
  /// records).
  std::optional<std::span<const uint8_t>> seal(proto::FrameType type, uint32_t stream,
                                               std::span<const uint8_t> payload);
  /// Seals the next record in place: `record` is kHeaderSize free bytes, the plaintext payload
  /// and kTagSize free bytes, and becomes the record. false, and nothing counted, under the same
  /// conditions as seal().
  bool sealInPlace(proto::FrameType type, uint32_t stream, std::span<uint8_t> record);
  /// Opens what should be the next record; nullopt (and nothing counted) if it is not exactly
  /// that record sealed with this key and direction.
  std::optional<Opened> open(std::span<const uint8_t> sealed);

  /// Number of the next record to seal or open.
  uint64_t counter() const { return counter_; }

 private:
  struct FreeContext {
    void operator()(evp_cipher_ctx_st* context) const;
  };
  using Context = std::unique_ptr<evp_cipher_ctx_st, FreeContext>;

  /// Starts the next record: its nonce and the additional data. `encrypt` picks the way.
  bool beginRecord(bool encrypt);
  /// Seals `payloadSize` bytes at `payload` into `out` (kOverhead + payloadSize bytes); `payload`
  /// may be out + kHeaderSize (in place). Counts the record on success.
  bool sealTo(proto::FrameType type, uint32_t stream, const uint8_t* payload, size_t payloadSize,
              uint8_t* out);

  Context context_;
  std::array<uint8_t, 2> additionalData_{};
  uint64_t counter_ = 0;
  io::Buffer sealed_;  // reused: the last sealed record
  io::Buffer opened_;  // reused: the last opened record's payload
};

}  // namespace ferry::carrier::secure
