// Encryption of pool keys at rest. Gemini keys must be sent upstream, so they cannot be hashed
// like client tokens; instead they are sealed with AES-256-GCM under a master key kept outside
// the database (GEMGATE_MASTER_KEY or a key file, see master_key.h), and a keyed fingerprint
// (HMAC-SHA256) takes over uniqueness and lookup, so no clear key is ever needed by SQL.
//
// Three independent subkeys are derived from the master key with HMAC-SHA256 over fixed labels
// (encryption, fingerprint, check value), so no value stored in the database is computed with
// the master key itself. Nothing here logs, and no error message contains key material.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace gemgate::storage {

// 32 secret bytes. Copyable (small), wiped on destruction; never printed.
class MasterKey {
 public:
  static constexpr std::size_t kSize = 32;

  // Parses 64 hexadecimal characters (surrounding whitespace ignored). The error never repeats
  // the input.
  static Result<MasterKey> from_hex(std::string_view text);
  // A fresh key from the OpenSSL CSPRNG (seeded by the kernel). Aborts if none is available.
  static MasterKey generate();

  MasterKey(const MasterKey&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  ~MasterKey();

  // 64 lowercase hex characters: the key file's content.
  std::string to_hex() const;
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }

 private:
  MasterKey() = default;
  std::array<std::uint8_t, kSize> bytes_{};
};

// Seals and opens secrets, and fingerprints them, under subkeys of one master key.
class SecretBox {
 public:
  explicit SecretBox(const MasterKey& master);
  ~SecretBox();
  SecretBox(const SecretBox&) = default;
  SecretBox& operator=(const SecretBox&) = default;

  // Returns version byte 0x01 ‖ 12-byte random nonce ‖ ciphertext ‖ 16-byte GCM tag. `aad` is
  // authenticated but not stored: open() must be given the same value.
  std::string seal(std::string_view plaintext, std::string_view aad) const;
  // The plaintext, or kInternal when the blob was altered, belongs to another aad, or was sealed
  // under another master key (GCM cannot tell these apart, and need not).
  Result<std::string> open(std::string_view blob, std::string_view aad) const;

  // HMAC-SHA256 of `secret` under the fingerprint subkey, 64 lowercase hex characters. Equal
  // secrets give equal fingerprints under one master key; without the key it reveals nothing
  // and cannot be used to confirm a guess offline (unlike a plain SHA-256).
  std::string fingerprint(std::string_view secret) const;

  // A value stored in the database to recognise the master key at the next start (64 hex).
  const std::string& check_value() const { return check_; }

 private:
  std::array<std::uint8_t, 32> enc_key_{};
  std::array<std::uint8_t, 32> fp_key_{};
  std::string check_;
};

}  // namespace gemgate::storage
