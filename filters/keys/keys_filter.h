// The `keys` filter: puts a healthy pool key on each upstream attempt and learns from the
// answer. On the request path it picks the next key that is healthy for the requested model
// (never one this request already tried) and sets it as `x-goog-api-key`. On the response path
// it classifies the outcome, updates the key's health, reports failed attempts, and marks the
// response retriable when another key may do better — the `retry` filter above acts on that.
#pragma once

#include <memory>

#include "core/access_log.h"
#include "core/registry.h"
#include "pool/key_pool.h"

namespace gemgate::keys {

// The pool policy's settings, read through policy_from().
inline constexpr Setting<int64_t> kMaxFailures{"max_failures"};  // breaker threshold; 0 = none
inline constexpr Setting<int64_t> kCooldownDefaultS{"cooldown_default_s"};
inline constexpr Setting<int64_t> kCooldownMaxS{"cooldown_max_s"};

// Registers the `keys` filter and declares its settings (kMaxFailures, kCooldownDefaultS,
// kCooldownMaxS). Needs services: KeyPool (required), LogSink (optional).
Result<void> register_keys_filter(Registry& registry);

// Reads the pool policy from a settings snapshot.
pool::PoolPolicy policy_from(const Settings& settings);

}  // namespace gemgate::keys
