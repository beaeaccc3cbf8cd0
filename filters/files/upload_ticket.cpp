// The sealed upload ticket. See upload_ticket.h.
#include "filters/files/upload_ticket.h"

#include <cstdlib>
#include <memory>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace gemgate::files {

namespace {

constexpr unsigned char kVersion = 0x01;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kFixedBytes = 3 * 8;  // key_id, token_id, expires_at_ms
constexpr size_t kMaxIdChars = 4096;   // a longer id is not ours (Google's targets are short)
constexpr std::string_view kKeyLabel = "gemgate/v1/upload-ticket-key";
constexpr std::string_view kAad = "gemgate/v1/upload-ticket";

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<std::string> from_base64url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

void put_i64(std::string& out, int64_t v) {
  for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((static_cast<uint64_t>(v) >> s) & 0xff);
}

int64_t get_i64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | uint8_t(in[i]);
  return static_cast<int64_t>(v);
}

struct CipherFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Cipher = std::unique_ptr<EVP_CIPHER_CTX, CipherFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

UploadSealer::UploadSealer(std::string_view secret) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytes(kKeyLabel),
       kKeyLabel.size(), out, &len);
  key_.assign(reinterpret_cast<const char*>(out), 32);
  OPENSSL_cleanse(out, sizeof out);
}

UploadSealer::~UploadSealer() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

std::string UploadSealer::seal(const UploadTicket& t) const {
  std::string plain;
  put_i64(plain, t.key_id);
  put_i64(plain, t.token_id);
  put_i64(plain, t.expires_at_ms);
  plain += t.google_target;

  std::string blob(1 + kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(blob.data());
  out[0] = kVersion;
  if (RAND_bytes(out + 1, kNonceBytes) != 1) std::abort();  // never a repeated nonce
  Cipher c(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = c &&
            EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), out + 1) == 1 &&
            EVP_EncryptUpdate(c.get(), nullptr, &len, bytes(kAad), kAad.size()) == 1 &&
            EVP_EncryptUpdate(c.get(), out + 1 + kNonceBytes, &len, bytes(plain),
                              static_cast<int>(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(c.get(), out + 1 + kNonceBytes + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                                out + 1 + kNonceBytes + plain.size()) == 1;
  OPENSSL_cleanse(plain.data(), plain.size());
  if (!ok) std::abort();  // AES-GCM with a valid key cannot fail; a broken libcrypto is fatal
  return base64url(blob);
}

std::optional<UploadTicket> UploadSealer::open(std::string_view id, int64_t now_ms) const {
  if (id.empty() || id.size() > kMaxIdChars) return std::nullopt;
  auto blob = from_base64url(id);
  if (!blob || blob->size() < 1 + kNonceBytes + kFixedBytes + kTagBytes) return std::nullopt;
  const auto* in = bytes(*blob);
  if (in[0] != kVersion) return std::nullopt;
  const size_t ct_len = blob->size() - 1 - kNonceBytes - kTagBytes;
  std::string plain(ct_len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  Cipher c(EVP_CIPHER_CTX_new());
  int len = 0;
  std::string tag = blob->substr(blob->size() - kTagBytes);
  bool ok =
      c && EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), in + 1) == 1 &&
      EVP_DecryptUpdate(c.get(), nullptr, &len, bytes(kAad), kAad.size()) == 1 &&
      EVP_DecryptUpdate(c.get(), out, &len, in + 1 + kNonceBytes, static_cast<int>(ct_len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(c.get(), out + len, &len) == 1;
  if (!ok) return std::nullopt;
  UploadTicket t;
  std::string_view p(plain);
  t.key_id = get_i64(p.substr(0, 8));
  t.token_id = get_i64(p.substr(8, 8));
  t.expires_at_ms = get_i64(p.substr(16, 8));
  t.google_target = std::string(p.substr(kFixedBytes));
  if (t.expires_at_ms <= now_ms) return std::nullopt;
  return t;
}

}  // namespace gemgate::files
