#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "proto/Frame.h"

namespace ferry::carrier::secure {

/// Which way records travel; bound into every record's additional data.
enum class Direction : uint8_t { ClientToServer = 1, ServerToClient = 2 };

/// Seals or opens the session frames of one direction with ChaCha20-Poly1305 (IETF).
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

  /// Copies `key`; the copy is wiped on destruction.
  RecordCipher(std::span<const uint8_t, kKeySize> key, Direction direction);
  ~RecordCipher();
  RecordCipher(const RecordCipher&) = delete;
  RecordCipher& operator=(const RecordCipher&) = delete;

  /// Seals the next record into `out` (replacing its contents). False, and nothing counted,
  /// when the payload exceeds kMaxPayload or the counter is spent (2^64 records).
  bool seal(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload,
            std::vector<uint8_t>& out);
  /// Opens what should be the next record; nullopt (and nothing counted) if it is not exactly
  /// that record sealed with this key and direction.
  std::optional<Opened> open(std::span<const uint8_t> sealed);

  /// Number of the next record to seal or open.
  uint64_t counter() const { return counter_; }

 private:
  using Nonce = std::array<uint8_t, 12>;
  Nonce nonce() const;

  std::array<uint8_t, kKeySize> key_{};
  std::array<uint8_t, 2> additionalData_{};
  uint64_t counter_ = 0;
  std::vector<uint8_t> plain_;  // reused: holds the opened record or the record being sealed
};

}  // namespace ferry::carrier::secure
