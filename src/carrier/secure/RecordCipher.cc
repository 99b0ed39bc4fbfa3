#include "carrier/secure/RecordCipher.h"

#include <openssl/evp.h>

#include <limits>
#include <stdexcept>

#include "carrier/secure/Handshake.h"

namespace ferry::carrier::secure {
namespace {

using Nonce = std::array<uint8_t, 12>;

Nonce nonceFor(uint64_t counter) {
  Nonce nonce{};
  proto::putU64(nonce.data(), counter);
  return nonce;
}

/// One EVP_CipherUpdate of `size` bytes (AAD when `out` is null); true on success.
bool update(EVP_CIPHER_CTX* context, uint8_t* out, const uint8_t* in, size_t size) {
  int written = 0;
  return size == 0 || EVP_CipherUpdate(context, out, &written, in, static_cast<int>(size)) == 1;
}

}  // namespace

void RecordCipher::FreeContext::operator()(evp_cipher_ctx_st* context) const {
  EVP_CIPHER_CTX_free(context);  // cleanses the key schedule
}

RecordCipher::RecordCipher(std::span<const uint8_t, kKeySize> key, Direction direction)
    : context_(EVP_CIPHER_CTX_new()) {
  // The key is set once; each record then only sets its nonce (beginRecord).
  if (context_ == nullptr ||
      EVP_CipherInit_ex(context_.get(), EVP_chacha20_poly1305(), nullptr, key.data(), nullptr, 1) !=
          1 ||
      EVP_CIPHER_CTX_get_iv_length(context_.get()) != static_cast<int>(std::tuple_size_v<Nonce>)) {
    throw std::runtime_error("OpenSSL has no usable ChaCha20-Poly1305");
  }
  additionalData_ = {Handshake::kAuthVersion, static_cast<uint8_t>(direction)};
}

RecordCipher::~RecordCipher() = default;

bool RecordCipher::beginRecord(bool encrypt) {
  Nonce nonce = nonceFor(counter_);
  return EVP_CipherInit_ex(context_.get(), nullptr, nullptr, nullptr, nonce.data(),
                           encrypt ? 1 : 0) == 1 &&
         update(context_.get(), nullptr, additionalData_.data(), additionalData_.size());
}

std::optional<std::span<const uint8_t>> RecordCipher::seal(proto::FrameType type, uint32_t stream,
                                                           std::span<const uint8_t> payload) {
  sealed_.clear();
  uint8_t* out = sealed_.prepareWrite(kOverhead + payload.size());
  if (!sealTo(type, stream, payload.data(), payload.size(), out)) {
    return std::nullopt;
  }
  sealed_.commit(kOverhead + payload.size());
  return sealed_.view();
}

bool RecordCipher::sealInPlace(proto::FrameType type, uint32_t stream, std::span<uint8_t> record) {
  if (record.size() < kOverhead) {
    return false;
  }
  return sealTo(type, stream, record.data() + kHeaderSize, record.size() - kOverhead,
                record.data());
}

bool RecordCipher::sealTo(proto::FrameType type, uint32_t stream, const uint8_t* payload,
                          size_t payloadSize, uint8_t* out) {
  if (payloadSize > kMaxPayload || counter_ == std::numeric_limits<uint64_t>::max()) {
    return false;
  }
  std::array<uint8_t, kHeaderSize> header{static_cast<uint8_t>(type)};
  proto::putU32(header.data() + 1, stream);
  uint8_t* tag = out + kHeaderSize + payloadSize;
  int finalBytes = 0;
  // The header and the payload are encrypted from where they are, in two updates of one stream;
  // EVP allows the payload's output to be its input (in place).
  if (!beginRecord(true) || !update(context_.get(), out, header.data(), kHeaderSize) ||
      !update(context_.get(), out + kHeaderSize, payload, payloadSize) ||
      EVP_CipherFinal_ex(context_.get(), tag, &finalBytes) != 1 ||
      EVP_CIPHER_CTX_ctrl(context_.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, tag) != 1) {
    return false;
  }
  ++counter_;
  return true;
}

std::optional<RecordCipher::Opened> RecordCipher::open(std::span<const uint8_t> sealed) {
  if (sealed.size() < kOverhead) {
    return std::nullopt;
  }
  size_t payloadSize = sealed.size() - kOverhead;
  std::array<uint8_t, kTagSize> tag;
  std::copy(sealed.end() - kTagSize, sealed.end(), tag.begin());
  std::array<uint8_t, kHeaderSize> header;
  opened_.clear();
  uint8_t* payload = opened_.prepareWrite(payloadSize);
  std::array<uint8_t, kTagSize> noOutput;  // a stream cipher's final step writes nothing
  int finalBytes = 0;
  // Nothing decrypted is handed out unless the tag checks out (EVP_CipherFinal_ex).
  if (!beginRecord(false) ||
      EVP_CIPHER_CTX_ctrl(context_.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, tag.data()) != 1 ||
      !update(context_.get(), header.data(), sealed.data(), kHeaderSize) ||
      !update(context_.get(), payload, sealed.data() + kHeaderSize, payloadSize) ||
      EVP_CipherFinal_ex(context_.get(), noOutput.data(), &finalBytes) != 1) {
    return std::nullopt;
  }
  opened_.commit(payloadSize);
  ++counter_;
  return Opened{static_cast<proto::FrameType>(header[0]), proto::getU32(header.data() + 1),
                opened_.view()};
}

}  // namespace ferry::carrier::secure
