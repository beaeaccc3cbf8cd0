// KeyPool: the Gemini API keys gemgate spreads requests over, with each key's policy (weight,
// group, own rpm/tpm, proxy, note) and live health — disabled (and why), consecutive failures,
// per-model cooldowns after quota errors and per-model circuit breakers after transient failures
// — plus the upstream's own health (outages). Shared by every worker: selection is a lock-free
// smooth weighted round-robin over an immutable key list and its precomputed schedule
// (key_schedule.h), and each key's health sits behind its own short lock. Changes are marked dirty
// and collected by the composition root, which writes them behind to storage (take_dirty).
//
// This is the pool's public interface, used by the keys filter, the cron health check and admin.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/snapshot.h"
#include "pool/classify.h"
#include "pool/key_schedule.h"
#include "pool/pool_metrics.h"
#include "pool/upstream_health.h"
#include "pool/usage_window.h"

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
  // When `disabled` last changed or the health was reset (wall clock ms, 0 = never): orders
  // this view against the ones other gateways of a group wrote (merge_shared_health).
  int64_t changed_ms = 0;
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

// What an operator decided about a key (stored with it, editable live). All optional.
struct KeyPolicy {
  int weight = 1;     // share of traffic relative to the other keys, kMinWeight..kMaxWeight
  std::string group;  // "" = the default group; tokens with a key_group use only its keys
  int64_t rpm = 0;    // requests per minute this key may take (this process), 0 = no limit
  int64_t tpm = 0;    // tokens per minute (charged from answers' usage), 0 = no limit
  std::string proxy;  // URL this key's traffic always leaves through, "" = the global rule.
                      // A secret (it may hold a password): never logged or shown unmasked
  std::string note;   // free text for operators

  bool operator==(const KeyPolicy&) const = default;
};
inline constexpr int kMinWeight = 1;
inline constexpr int kMaxWeight = 100;

class PoolKey {
 public:
  PoolKey(int64_t id, std::string secret, KeyHealth health, KeyPolicy policy = {});

  int64_t id() const { return id_; }
  const std::string& secret() const { return secret_; }
  bool disabled() const { return disabled_.load(std::memory_order_relaxed); }
  // True when the key may serve `model` at `now_ms`; otherwise *until_ms gets the end of the
  // blocking cooldown (0 when the key is disabled).
  // A half-open breaker counts as usable here (pick() is what takes its single trial).
  bool usable_for(std::string_view model, int64_t now_ms, int64_t* until_ms) const;
  // A consistent copy of the health.
  KeyHealth health() const;
  // The key's current policy (replaced whole by KeyPool::set_policy). Thread-safe.
  std::shared_ptr<const KeyPolicy> policy() const { return policy_.load(); }
  // Requests and tokens this key served in the 60 s ending at `now_ms` (this process).
  UsageWindow::Totals last_minute(int64_t now_ms) const { return usage_.last_minute(now_ms); }
  // Charges `tokens` of an answer's usage to the key's tpm window. Thread-safe.
  void charge_tokens(int64_t tokens, int64_t now_ms) { usage_.add_tokens(now_ms, tokens); }

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
  Published<KeyPolicy> policy_;
  std::atomic<int64_t> rpm_{0};  // mirror policy_ for the fast path
  std::atomic<int64_t> tpm_{0};
  UsageWindow usage_;  // requests counted at pick, tokens at charge_tokens
};

// The reason recorded when an operator disables a key. Automatic checks never bring such a key
// back; only an explicit verify, enable or reset does.
inline constexpr std::string_view kDisabledByAdmin = "disabled by admin";

using KeyList = std::vector<std::shared_ptr<PoolKey>>;

class KeyPool {
 public:
  struct Pick {
    std::shared_ptr<PoolKey> key;  // null when no key can serve
    // kNoKeys: no key at all (in the requested group); kAllBusy: every key that could serve
    // is at its own rpm/tpm limit (some may be cooling down too).
    enum class Why { kOk, kNoKeys, kAllDisabled, kAllCooling, kAllTried, kAllBusy } why = Why::kOk;
    int64_t retry_after_ms = 0;  // kAllCooling/kAllBusy: until the first key can serve again
  };

  // A key as loaded from storage.
  struct KeySeed {
    std::string secret;
    KeyHealth health;  // health.id is the key's id
    KeyPolicy policy;
  };

  // Replaces the set of keys. Keys whose id stays keep their live health; new ones start from
  // the given health. Every key takes the given policy. Thread-safe.
  void set_keys_and_policies(std::vector<KeySeed> seeds);
  // As above, for callers that know no policies: keys that stay keep theirs, new ones get the
  // default (weight 1, no group, no limits, no proxy). Thread-safe.
  void set_keys(std::vector<std::pair<std::string, KeyHealth>> secrets_with_health);
  // Adds one key (no-op if the id exists). Thread-safe.
  void add_key(std::string secret, KeyHealth health, KeyPolicy policy = {});
  // Replaces key `id`'s policy; a new weight or group takes effect at the next pick. Returns
  // false for an unknown id. Thread-safe.
  bool set_policy(int64_t id, KeyPolicy policy);
  // Removes key `id`; returns false if unknown. Thread-safe.
  bool remove_key(int64_t id);

  // Picks the next key that is healthy for `model` in the weighted order of `group`'s keys (""
  // = every key, grouped or not), skipping ids in `exclude` and keys at their own rpm/tpm limit
  // (skipped, not penalised). Records the pick as the key's last use and counts it in the key's
  // rpm window. Thread-safe, lock-free on the common path (a key with a usage window takes its
  // short lock).
  Pick pick(std::string_view model, std::span<const int64_t> exclude, int64_t now_ms,
            std::string_view group = {});

  // Milliseconds until some key can serve `model`: 0 if one can now, -1 if none ever will
  // without an operator (all disabled or no keys). Thread-safe.
  int64_t wait_for_model_ms(std::string_view model, int64_t now_ms) const;

  // Applies an outcome of a request served by `key` for `model` to the key and to the upstream's
  // health. Returns true when the failure is the upstream's, not the key's (kUnreachable, or a
  // transient failure shared by enough keys, which makes the model suspected until the probe
  // confirms an outage: see UpstreamHealth): then no key is penalised — breaker strikes recorded
  // since the evidence began are forgiven — and the caller should answer this request as for an
  // outage. Thread-safe.
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
  // Takes `key` for one request that must use it (a resource it owns, see
  // filters/common/key_pin.h), as pick() takes a key: counts the request in its rpm window and
  // records the use, unless the key is at its own rpm/tpm limit. Returns 0 when taken, else the
  // milliseconds until it can take one (at least 1). Health is not checked here. Thread-safe.
  int64_t take_pinned(PoolKey& key, int64_t now_ms);
  // True when `secret` is one of the pool's keys (client tokens must never equal a pool key).
  bool contains_secret(std::string_view secret) const;
  // The current key list (immutable snapshot).
  std::shared_ptr<const KeyList> keys() const { return selection_.load()->keys; }
  size_t size() const { return selection_.load()->keys->size(); }

  // Returns and clears the health of keys changed since the last call (write-behind).
  std::vector<KeyHealth> take_dirty();

  // Merges key health other gateways of the group wrote to the shared database into the live
  // keys (pool/shared_health.cpp), without undoing what this process learned and has not yet
  // written: per key, the later decision (changed_ms) sets disabled and reason; quota cooldowns
  // merge per model, the later end winning; circuit breakers stay local. Marks nothing dirty.
  // Unknown ids are ignored. Returns how many keys changed state (disabled or cooling).
  // Thread-safe.
  size_t merge_shared_health(const std::vector<KeyHealth>& shared, int64_t now_ms);

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
  UpstreamHealth upstream_;
  // Publishes `next` as the key list with a schedule built from its keys' policies. Caller
  // holds write_mu_.
  void publish_list_locked(std::shared_ptr<KeyList> next);

  // The key list and its weighted schedule, published together so they always agree.
  struct Selection {
    std::shared_ptr<const KeyList> keys;
    std::shared_ptr<const KeySchedule> schedule;
  };
  Published<Selection> selection_{std::make_shared<const Selection>(
      Selection{std::make_shared<const KeyList>(), build_schedule({}, {}, nullptr)})};
  std::mutex write_mu_;  // serialises list replacements
};

// Returns why `secret` cannot be a Gemini API key, or "" when it can: 20 to 256 characters of
// letters, digits, '-', '_' and '.' (Google keys are "AIza" + 35 such characters). Catches words
// pasted along with keys ("key", "and", a label) before they reach the pool.
std::string key_format_problem(std::string_view secret);

}  // namespace gemgate::pool
