// CredentialSet: the client tokens allowed to call gemgate, as SHA-256 hashes mapped to their
// ids (the tokens themselves are never kept). Published as an immutable snapshot; a new or
// deleted token takes effect with the next request. CredentialUsage receives "token used" events
// so last-used times can be written behind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/snapshot.h"

namespace gemgate {

struct CredentialSet {
  std::unordered_map<std::string, int64_t> id_by_hash;  // sha256 hex → token id

  // Returns the id of the token whose hash is `hash`, if any.
  std::optional<int64_t> find(const std::string& hash) const {
    auto it = id_by_hash.find(hash);
    if (it == id_by_hash.end()) return std::nullopt;
    return it->second;
  }
};

using PublishedCredentials = Published<CredentialSet>;

class CredentialUsage {
 public:
  virtual ~CredentialUsage() = default;
  // Token `id` authenticated a request at `time_ms`. Must not block. Thread-safe.
  virtual void token_used(int64_t id, int64_t time_ms) = 0;
};

}  // namespace gemgate
