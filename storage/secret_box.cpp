// AES-256-GCM and HMAC-SHA256 through OpenSSL's libcrypto (EVP and one-shot HMAC). Every call
// into OpenSSL is checked; a failure of the library itself (not of authentication) aborts:
// continuing would store a key unencrypted or lose it.
#include "storage/secret_box.h"

#include <cstdlib>
#include <memory>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace gemgate::storage {

namespace {

constexpr std::uint8_t kFormatV1 = 0x01;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;

[[noreturn]] void crypto_failure() {
  std::abort();  // libcrypto refused a well-formed call: out of memory or a broken library
}

std::string to_hex(const std::uint8_t* data, std::size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<std::uint8_t, 32> hmac(const std::uint8_t* key, std::size_t key_len,
                                  std::string_view data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key, static_cast<int>(key_len),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    crypto_failure();
  }
  return out;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<MasterKey> MasterKey::from_hex(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' ||
                           text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  if (text.size() != 2 * kSize) {
    return Error::invalid("a master key must be 64 hexadecimal characters (32 bytes), got " +
                          std::to_string(text.size()) + " characters");
  }
  MasterKey key;
  for (std::size_t i = 0; i < kSize; ++i) {
    const int hi = hex_digit(text[2 * i]);
    const int lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Error::invalid("a master key must be 64 hexadecimal characters (32 bytes)");
    }
    key.bytes_[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return key;
}

MasterKey MasterKey::generate() {
  MasterKey key;
  if (RAND_bytes(key.bytes_.data(), static_cast<int>(kSize)) != 1) crypto_failure();
  return key;
}

MasterKey::~MasterKey() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

std::string MasterKey::to_hex() const {
  return storage::to_hex(bytes_.data(), bytes_.size());
}

SecretBox::SecretBox(const MasterKey& master) {
  const auto& k = master.bytes();
  enc_key_ = hmac(k.data(), k.size(), "gemgate/v1/pool-key-encryption");
  fp_key_ = hmac(k.data(), k.size(), "gemgate/v1/pool-key-fingerprint");
  auto check = hmac(k.data(), k.size(), "gemgate/v1/master-key-check");
  check_ = to_hex(check.data(), check.size());
  OPENSSL_cleanse(check.data(), check.size());
}

SecretBox::~SecretBox() {
  OPENSSL_cleanse(enc_key_.data(), enc_key_.size());
  OPENSSL_cleanse(fp_key_.data(), fp_key_.size());
}

std::string SecretBox::seal(std::string_view plaintext, std::string_view aad) const {
  std::string out(1 + kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kFormatV1;
  unsigned char* nonce = p + 1;
  unsigned char* ct = nonce + kNonceSize;
  // A random 96-bit nonce per seal: keys are added a few at a time, far below the 2^32 seals
  // per key where random GCM nonces start to risk a collision.
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) crypto_failure();
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, enc_key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                          ct + plaintext.size()) != 1) {
    crypto_failure();
  }
  return out;
}

Result<std::string> SecretBox::open(std::string_view blob, std::string_view aad) const {
  if (blob.size() < 1 + kNonceSize + kTagSize || static_cast<std::uint8_t>(blob[0]) != kFormatV1) {
    return Error::internal("sealed secret has an unknown format");
  }
  const auto* p = bytes(blob);
  const unsigned char* nonce = p + 1;
  const unsigned char* ct = nonce + kNonceSize;
  const std::size_t ct_len = blob.size() - 1 - kNonceSize - kTagSize;
  std::string out(ct_len, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, enc_key_.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), dst, &len, ct, static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          const_cast<unsigned char*>(ct + ct_len)) != 1) {
    crypto_failure();
  }
  if (EVP_DecryptFinal_ex(ctx.get(), dst + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return Error::internal(
        "sealed secret failed authentication (altered, or sealed under another master key)");
  }
  return out;
}

std::string SecretBox::fingerprint(std::string_view secret) const {
  auto mac = hmac(fp_key_.data(), fp_key_.size(), secret);
  return to_hex(mac.data(), mac.size());
}

}  // namespace gemgate::storage
