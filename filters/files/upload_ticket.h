// UploadTicket: what a gateway upload URL carries. Google's resumable upload answers `start` with
// a session URL (X-Goog-Upload-URL) that works only with the pool key that started it; the
// client must never see that URL (it names Google's host) nor which key holds it. The `files`
// filter hands the client an opaque id instead, the ticket sealed with AES-256-GCM under a
// gateway secret: the owning key, the client token, Google's session (its path and query) and an
// expiry. Any gateway with the same secret (a group sharing one master key) opens it, so no table
// is needed; an altered, forged, truncated or foreign id opens to nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gemgate::files {

struct UploadTicket {
  int64_t key_id = -1;        // the pool key that started the session (it alone may continue it)
  int64_t token_id = -1;      // the client token that started it (only it may continue it)
  int64_t expires_at_ms = 0;  // unix ms; after it the ticket opens to nothing
  std::string google_target;  // Google's session: path and query ("/upload/v1beta/files?...")
};

class UploadSealer {
 public:
  // Derives the ticket key from `secret` (any length; 32 random bytes or more) with HMAC-SHA256
  // over a fixed label, so the secret itself never encrypts anything here.
  explicit UploadSealer(std::string_view secret);
  ~UploadSealer();
  UploadSealer(const UploadSealer&) = default;
  UploadSealer& operator=(const UploadSealer&) = default;

  // Returns the sealed ticket as base64url without padding (URL- and header-safe): version byte,
  // random 12-byte nonce, ciphertext, 16-byte tag.
  std::string seal(const UploadTicket& ticket) const;
  // The ticket in `id`, or nullopt when `id` is not a ticket sealed under this key (altered,
  // forged, truncated, another gateway secret, another version) or when it expired at `now_ms`.
  std::optional<UploadTicket> open(std::string_view id, int64_t now_ms) const;

 private:
  std::string key_;  // 32 bytes
};

}  // namespace gemgate::files
