#include "carrier/secure/RecordCipher.h"

#include <sodium.h>

#include <cstring>
#include <limits>

#include "carrier/secure/Handshake.h"
#include "carrier/secure/Sodium.h"

namespace ferry::carrier::secure {

static_assert(RecordCipher::kKeySize == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(RecordCipher::kTagSize == crypto_aead_chacha20poly1305_ietf_ABYTES);

RecordCipher::RecordCipher(std::span<const uint8_t, kKeySize> key, Direction direction) {
  ensureSodium();
  std::memcpy(key_.data(), key.data(), kKeySize);
  additionalData_ = {Handshake::kAuthVersion, static_cast<uint8_t>(direction)};
}

RecordCipher::~RecordCipher() {
  sodium_memzero(key_.data(), key_.size());
}

RecordCipher::Nonce RecordCipher::nonce() const {
  static_assert(std::tuple_size_v<Nonce> == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
  Nonce nonce{};
  proto::putU64(nonce.data(), counter_);
  return nonce;
}

bool RecordCipher::seal(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload,
                        std::vector<uint8_t>& out) {
  if (payload.size() > kMaxPayload || counter_ == std::numeric_limits<uint64_t>::max()) {
    return false;
  }
  plain_.resize(kHeaderSize + payload.size());
  plain_[0] = static_cast<uint8_t>(type);
  proto::putU32(plain_.data() + 1, stream);
  if (!payload.empty()) {
    std::memcpy(plain_.data() + kHeaderSize, payload.data(), payload.size());
  }
  out.resize(plain_.size() + kTagSize);
  Nonce n = nonce();
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &written, plain_.data(), plain_.size(),
                                            additionalData_.data(), additionalData_.size(), nullptr,
                                            n.data(), key_.data());
  ++counter_;
  return true;
}

std::optional<RecordCipher::Opened> RecordCipher::open(std::span<const uint8_t> sealed) {
  if (sealed.size() < kOverhead) {
    return std::nullopt;
  }
  plain_.resize(sealed.size() - kTagSize);
  Nonce n = nonce();
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(
          plain_.data(), &written, nullptr, sealed.data(), sealed.size(), additionalData_.data(),
          additionalData_.size(), n.data(), key_.data()) != 0) {
    return std::nullopt;
  }
  ++counter_;
  return Opened{static_cast<proto::FrameType>(plain_[0]), proto::getU32(plain_.data() + 1),
                std::span<const uint8_t>(plain_).subspan(kHeaderSize)};
}

}  // namespace ferry::carrier::secure
