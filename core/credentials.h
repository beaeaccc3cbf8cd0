// CredentialSet: the client tokens allowed to call gemgate, as SHA-256 hashes mapped to each
// token's policy (the tokens themselves are never kept). Published as an immutable snapshot; a
// new, changed or deleted token takes effect with the next request, and every check a policy
// asks for (enabled, expiry, models) is answered from memory. CredentialUsage receives "token
// used" events so last-used times can be written behind.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/snapshot.h"

namespace gemgate {

// What one client token may do. Every limit is optional: 0 (or empty) means "none".
struct TokenPolicy {
  int64_t id = -1;
  std::vector<std::string> models;  // allowed model names; '*' matches any run of characters
  int64_t rpm = 0;                  // requests per minute
  int64_t tpm = 0;                  // tokens per minute
  int64_t daily_tokens = 0;         // tokens per UTC day
  int64_t monthly_tokens = 0;       // tokens per UTC calendar month
  int64_t expires_at_ms = 0;        // Unix ms after which the token is refused; 0 = never
  std::string key_group;            // the pool keys it may use ("" = every key)
  bool enabled = true;

  // True when `model` is allowed: no list, or a name/pattern of the list matches it.
  bool allows_model(std::string_view model) const;
  // True when the token has expired at `now_ms`.
  bool expired(int64_t now_ms) const { return expires_at_ms > 0 && now_ms >= expires_at_ms; }
};

struct CredentialSet {
  // Looked up on every request by a hash the caller holds on its stack: no key string is built.
  struct HashOfHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // sha256 hex → the token's policy
  std::unordered_map<std::string, std::shared_ptr<const TokenPolicy>, HashOfHash, std::equal_to<>>
      by_hash;

  // Returns the policy of the token whose hash is `hash`, or nullptr.
  std::shared_ptr<const TokenPolicy> find(std::string_view hash) const {
    auto it = by_hash.find(hash);
    if (it == by_hash.end()) return nullptr;
    return it->second;
  }
};

using PublishedCredentials = Published<CredentialSet>;

// The exchange slot where auth leaves the policy of the token that authenticated the request,
// for the filters further down (token_policy) to decide from without another lookup.
struct TokenPolicySlot {
  std::shared_ptr<const TokenPolicy> policy;
};

class CredentialUsage {
 public:
  virtual ~CredentialUsage() = default;
  // Token `id` authenticated a request at `time_ms`. Must not block. Thread-safe.
  virtual void token_used(int64_t id, int64_t time_ms) = 0;
};

}  // namespace gemgate
