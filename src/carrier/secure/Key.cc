#include "carrier/secure/Key.h"

#include <sodium.h>

#include "carrier/secure/Sodium.h"

namespace ferry::carrier::secure {

Key::~Key() {
  sodium_memzero(bytes_.data(), bytes_.size());
}

Key& Key::operator=(const Key& other) {
  if (this != &other) {
    sodium_memzero(bytes_.data(), bytes_.size());
    bytes_ = other.bytes_;
  }
  return *this;
}

Key Key::generate() {
  ensureSodium();
  Key key;
  randombytes_buf(key.bytes_.data(), key.bytes_.size());
  return key;
}

std::optional<Key> Key::fromHex(std::string_view hex) {
  ensureSodium();
  if (hex.size() != kHexSize) {
    return std::nullopt;
  }
  Key key;
  size_t written = 0;
  const char* end = nullptr;
  // sodium_hex2bin decodes in constant time with respect to the digits (no table lookups that
  // leak the key through the cache); with no ignore set it stops at the first non-hex character.
  if (sodium_hex2bin(key.bytes_.data(), key.bytes_.size(), hex.data(), hex.size(), nullptr,
                     &written, &end) != 0 ||
      written != kSize || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return key;
}

std::string Key::toHex() const {
  std::array<char, kHexSize + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), bytes_.data(), bytes_.size());
  std::string text(hex.data(), kHexSize);
  sodium_memzero(hex.data(), hex.size());
  return text;
}

bool Key::operator==(const Key& other) const {
  return sodium_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

}  // namespace ferry::carrier::secure
