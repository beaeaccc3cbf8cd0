// KeyPool: the Gemini API keys gemgate spreads requests over, with each key's live health —
// disabled (and why), consecutive failures, per-model cooldowns after quota errors and per-model
// circuit breakers after transient failures — plus the upstream's own health (outages). Shared
// by every worker: selection is a lock-free round-robin over an immutable key list, and each
// key's health sits behind its own short lock. Changes are marked dirty and collected by the
// composition root, which writes them behind to storage (take_dirty).
//
// This is the pool's public interface, used by the keys filter, the cron health check and admin.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/snapshot.h"
#include "pool/classify.h"
#include "pool/pool_metrics.h"
#include "pool/upstream_health.h"

namespace gemgate::pool {

// A cooldown of one key for one model ("*" = every model): after a quota error, or — with
// `breaker` set — the key × model circuit breaker after transient failures (5xx, timeouts).
// A breaker counts strikes with until_ms = 0 (closed) until the threshold opens it (until_ms =
// end of the open time); once that passes it is half-open: one request may take it (until_ms is
// then pushed by a short lease), a success closes it (the entry goes), a failure reopens it
// for twice as long.
struct Cooldown {
  std::string model;
  int64_t until_ms = 0;
  int strikes = 0;  // quota errors / transient failures in a row for this model
  int64_t last_strike_ms = 0;
  bool breaker = false;
};

// Persistence of cooldowns in a store that knows only (model, until, strikes): a breaker's model
// is stored with this prefix. stored_cooldown_model() gives the stored name, cooldown_from_stored
// reads it back.
inline constexpr std::string_view kBreakerPrefix = "circuit:";
std::string stored_cooldown_model(const Cooldown& c);
Cooldown cooldown_from_stored(std::string_view model, int64_t until_ms, int strikes);

// A copy of one key's health, for persistence and admin views.
struct KeyHealth {
  int64_t id = 0;
  bool disabled = false;
  std::string reason;  // why it is disabled; never contains a secret
  int failures = 0;    // consecutive transient failures (informational: never disables)
  std::vector<Cooldown> cooldowns;
  int64_t last_used_ms = 0;
  std::string last_error;
  int64_t last_checked_ms = 0;
  int64_t created_ms = 0;  // when the key was added (informational)
};

// How outcomes change health; taken from the live settings at each request.
struct PoolPolicy {
  // Consecutive transient failures of a key for one model that open its circuit breaker
  // (setting max_failures; 0 = never). Transient failures never disable a key.
  int breaker_threshold = 3;
  int64_t breaker_base_ms = 1'000;       // first open time, doubled per failed half-open trial
  int64_t breaker_max_ms = 60'000;       // cap of the open time (before jitter)
  int64_t cooldown_default_ms = 60'000;  // quota cooldown without RetryInfo, doubled per strike
  int64_t cooldown_max_ms = 3'600'000;   // upper bound of a grown cooldown
};

class PoolKey {
 public:
  PoolKey(int64_t id, std::string secret, KeyHealth health);

  int64_t id() const { return id_; }
  const std::string& secret() const { return secret_; }
  bool disabled() const { return disabled_.load(std::memory_order_relaxed); }
  // True when the key may serve `model` at `now_ms`; otherwise *until_ms gets the end of the
  // blocking cooldown (0 when the key is disabled).
  // A half-open breaker counts as usable here (pick() is what takes its single trial).
  bool usable_for(std::string_view model, int64_t now_ms, int64_t* until_ms) const;
  // A consistent copy of the health.
  KeyHealth health() const;

 private:
  friend class KeyPool;
  // Republishes the lock-free mirrors below from health_ and marks the key dirty. Every change of
  // health_ ends with it, so the mirrors never disagree with the guarded copy. Caller holds mu_.
  void publish_locked();
  const int64_t id_;
  const std::string secret_;
  mutable std::mutex mu_;
  KeyHealth health_;                       // guarded by mu_
  std::atomic<bool> disabled_{false};      // mirrors health_.disabled for the fast path
  std::atomic<int64_t> cooling_until_{0};  // latest cooldown end over all models
  std::atomic<bool> tripped_{false};       // some breaker has opened: pick() takes the slow path
  std::atomic<bool> dirty_{false};         // changed since the last take_dirty()
};

// The reason recorded when an operator disables a key. Automatic checks never bring such a key
// back; only an explicit verify, enable or reset does.
inline constexpr std::string_view kDisabledByAdmin = "disabled by admin";

using KeyList = std::vector<std::shared_ptr<PoolKey>>;

class KeyPool {
 public:
  struct Pick {
    std::shared_ptr<PoolKey> key;  // null when no key can serve
    enum class Why { kOk, kNoKeys, kAllDisabled, kAllCooling, kAllTried } why = Why::kOk;
    int64_t retry_after_ms = 0;  // kAllCooling: until the earliest cooldown ends
  };

  // Replaces the set of keys. Keys whose id stays keep their live health; new ones start from
  // the given health. Thread-safe.
  void set_keys(std::vector<std::pair<std::string, KeyHealth>> secrets_with_health);
  // Adds one key (no-op if the id exists). Thread-safe.
  void add_key(std::string secret, KeyHealth health);
  // Removes key `id`; returns false if unknown. Thread-safe.
  bool remove_key(int64_t id);

  // Picks the next key that is healthy for `model`, round-robin, skipping ids in `exclude`.
  // Records the pick as the key's last use. Thread-safe, lock-free on the common path.
  Pick pick(std::string_view model, const std::vector<int64_t>& exclude, int64_t now_ms);

  // Milliseconds until some key can serve `model`: 0 if one can now, -1 if none ever will
  // without an operator (all disabled or no keys). Thread-safe.
  int64_t wait_for_model_ms(std::string_view model, int64_t now_ms) const;

  // Applies an outcome of a request served by `key` for `model` to the key and to the upstream's
  // health. Returns true when the failure is the upstream's, not the key's (kUnreachable, or a
  // transient failure shared by enough keys: see UpstreamHealth): then no key is penalised —
  // breaker strikes recorded since the evidence began are forgiven — and the caller should
  // answer as for an outage. Thread-safe.
  bool record(PoolKey& key, std::string_view model, const Outcome& outcome,
              const PoolPolicy& policy, int64_t now_ms);

  // The upstream's own health (outages), shared by every worker.
  UpstreamHealth& upstream() { return upstream_; }
  // Keys not disabled (the outage threshold: min(3, this)). Thread-safe.
  int enabled_count() const;

  // Admin/health-check operations; each returns false for an unknown id. Thread-safe.
  bool enable(int64_t id);  // clears disabled + failures (cooldowns stay)
  bool disable(int64_t id, std::string reason);
  bool reset(int64_t id);  // enable, clear failures and cooldowns
  bool mark_checked(int64_t id, int64_t now_ms, std::string last_error);

  std::shared_ptr<PoolKey> find(int64_t id) const;
  // True when `secret` is one of the pool's keys (client tokens must never equal a pool key).
  bool contains_secret(std::string_view secret) const;
  // The current key list (immutable snapshot).
  std::shared_ptr<const KeyList> keys() const { return keys_.load(); }
  size_t size() const { return keys_.load()->size(); }

  // Returns and clears the health of keys changed since the last call (write-behind).
  std::vector<KeyHealth> take_dirty();

  // Counters for /metrics (attempts by outcome, key state changes). Thread-safe.
  PoolMetrics& metrics() { return metrics_; }
  const PoolMetrics& metrics() const { return metrics_; }

 private:
  void record_breaker_strike(PoolKey& key, std::string_view model, const Outcome& outcome,
                             const PoolPolicy& policy, int64_t now_ms);
  void forgive_breakers_since(int64_t since_ms);
  // Applies `change` to key `id`'s health under its lock, then publishes it. False for an
  // unknown id.
  template <class Change>
  bool edit(int64_t id, Change change);
  // Logs a key that came back into service (once per change) and counts it.
  void note_revived(int64_t id, bool was_disabled, std::string_view how);

  PoolMetrics metrics_;
  Published<KeyList> keys_;
  UpstreamHealth upstream_;
  std::mutex write_mu_;  // serialises list replacements
  std::atomic<uint64_t> cursor_{0};
};

// Returns why `secret` cannot be a Gemini API key, or "" when it can: 20 to 256 characters of
// letters, digits, '-', '_' and '.' (Google keys are "AIza" + 35 such characters). Catches words
// pasted along with keys ("key", "and", a label) before they reach the pool.
std::string key_format_problem(std::string_view secret);

}  // namespace gemgate::pool
