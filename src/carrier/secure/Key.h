#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ferry::carrier::secure {

/// A 32-byte pre-shared key. The bytes are wiped (sodium_memzero) when a Key is destroyed or
/// overwritten, so copies do not linger in freed memory.
class Key {
 public:
  static constexpr size_t kSize = 32;
  static constexpr size_t kHexSize = 2 * kSize;

  /// An all-zero key; only useful as a placeholder before assignment.
  Key() = default;
  ~Key();
  Key(const Key& other) = default;
  Key& operator=(const Key& other);

  /// A new key from the system's random source (randombytes_buf).
  static Key generate();
  /// Parses exactly 64 hex characters (either case); nullopt for anything else.
  static std::optional<Key> fromHex(std::string_view hex);

  /// 64 lowercase hex characters.
  std::string toHex() const;
  std::span<const uint8_t, kSize> bytes() const { return bytes_; }
  /// Constant-time comparison.
  bool operator==(const Key& other) const;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace ferry::carrier::secure
