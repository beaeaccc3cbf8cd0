#include "pool/key_pool.h"

#include <algorithm>
#include <optional>
#include <random>

#include "core/log.h"

namespace gemgate::pool {

std::string key_format_problem(std::string_view secret) {
  if (secret.size() < 20) return "too short to be an API key";
  if (secret.size() > 256) return "too long to be an API key";
  for (char c : secret) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return "contains a character API keys never have";
  }
  return "";
}

namespace {

constexpr int64_t kStrikeMemoryMs = 24 * 3600 * 1000LL;  // repeats within a day grow cooldowns
constexpr int64_t kMinCooldownMs = 1000;

// A half-open breaker's single trial holds the key for this model until it reports (or this
// passes: a trial whose client went away must not keep the key out for good).
constexpr int64_t kHalfOpenLeaseMs = 10'000;
// Distinct keys failing alike that make a model's failures the upstream's (fewer keys: all).
constexpr int kOutageKeys = 3;

int64_t latest_until(const std::vector<Cooldown>& cooldowns) {
  int64_t latest = 0;
  for (const Cooldown& c : cooldowns) latest = std::max(latest, c.until_ms);
  return latest;
}

bool any_tripped(const std::vector<Cooldown>& cooldowns) {
  for (const Cooldown& c : cooldowns) {
    if (c.breaker && c.until_ms > 0) return true;
  }
  return false;
}

bool applies(const Cooldown& c, std::string_view model) {
  return c.model == model || c.model == "*";
}

// Open time of a breaker that opened `opens` times in a row: base doubling to max, then "equal
// jitter" (a uniform draw from the upper half), so keys that failed together do not all come
// back in the same millisecond.
int64_t breaker_delay(const PoolPolicy& policy, int opens) {
  int64_t delay = std::max<int64_t>(policy.breaker_base_ms, 1);
  for (int i = 1; i < opens && delay < policy.breaker_max_ms; ++i) delay *= 2;
  delay = std::min(delay, std::max(policy.breaker_max_ms, policy.breaker_base_ms));
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> half(0, delay / 2);
  return delay - delay / 2 + half(rng);
}

// A key state change to log once the key's lock is released: one line per change, never per
// request (a flood of 429s on a cooling key writes nothing more), naming the key by id and mask.
struct KeyChange {
  KeyEvent event;
  std::string model;
  std::string reason;
  int64_t until_ms = 0;
  int failures = 0;
};

void log_key_change(const PoolKey& key, const KeyChange& c, int64_t now_ms) {
  std::string until = c.until_ms > 0 ? log::utc_time(c.until_ms) : "";
  int64_t for_s = c.until_ms > now_ms ? (c.until_ms - now_ms + 999) / 1000 : 0;
  switch (c.event) {
    case KeyEvent::kDisabled: {
      log::Field f[] = {
          log::Field::str("event", "key_disabled"), log::Field::num("key_id", key.id()),
          log::Field::masked("key_mask", key.secret()), log::Field::str("reason", c.reason)};
      log::write_fields(log::Level::kWarn, "key disabled", f);
      break;
    }
    case KeyEvent::kCooling: {
      log::Field f[] = {log::Field::str("event", "key_cooling"),
                        log::Field::num("key_id", key.id()),
                        log::Field::masked("key_mask", key.secret()),
                        log::Field::str("model", c.model),
                        log::Field::str("until", until),
                        log::Field::num("cooldown_s", for_s)};
      log::write_fields(log::Level::kInfo, "key cooling down", f);
      break;
    }
    case KeyEvent::kBreakerOpen: {
      log::Field f[] = {log::Field::str("event", "key_breaker_open"),
                        log::Field::num("key_id", key.id()),
                        log::Field::masked("key_mask", key.secret()),
                        log::Field::str("model", c.model),
                        log::Field::str("until", until),
                        log::Field::num("failures", c.failures)};
      log::write_fields(log::Level::kWarn, "key circuit breaker open", f);
      break;
    }
    case KeyEvent::kRevived: {
      log::Field f[] = {
          log::Field::str("event", "key_revived"), log::Field::num("key_id", key.id()),
          log::Field::masked("key_mask", key.secret()), log::Field::str("reason", c.reason)};
      log::write_fields(log::Level::kInfo, "key back in service", f);
      break;
    }
    case KeyEvent::kCount:
      break;
  }
}

}  // namespace

std::string stored_cooldown_model(const Cooldown& c) {
  return c.breaker ? std::string(kBreakerPrefix) + c.model : c.model;
}

Cooldown cooldown_from_stored(std::string_view model, int64_t until_ms, int strikes) {
  Cooldown c;
  if (model.substr(0, kBreakerPrefix.size()) == kBreakerPrefix) {
    c.breaker = true;
    model.remove_prefix(kBreakerPrefix.size());
  }
  c.model = std::string(model);
  c.until_ms = until_ms;
  c.strikes = strikes;
  // The time of the last strike is not stored; a restart keeps the strike count until the
  // cooldown ends, which errs on the side of longer cooldowns.
  c.last_strike_ms = until_ms;
  return c;
}

PoolKey::PoolKey(int64_t id, std::string secret, KeyHealth health, KeyPolicy policy)
    : id_(id),
      secret_(std::move(secret)),
      health_(std::move(health)),
      policy_(std::make_shared<const KeyPolicy>(policy)) {
  health_.id = id_;
  disabled_.store(health_.disabled);
  cooling_until_.store(latest_until(health_.cooldowns));
  tripped_.store(any_tripped(health_.cooldowns));
  rpm_.store(policy.rpm);
  tpm_.store(policy.tpm);
}

void PoolKey::publish_locked() {
  if (disabled_.load() != health_.disabled) health_.changed_ms = now_unix_ms();
  disabled_.store(health_.disabled);
  cooling_until_.store(latest_until(health_.cooldowns));
  tripped_.store(any_tripped(health_.cooldowns));
  dirty_.store(true, std::memory_order_relaxed);
}

bool PoolKey::usable_for(std::string_view model, int64_t now_ms, int64_t* until_ms) const {
  if (disabled()) {
    *until_ms = 0;
    return false;
  }
  if (cooling_until_.load(std::memory_order_relaxed) <= now_ms) return true;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Cooldown& c : health_.cooldowns) {
    if (applies(c, model) && c.until_ms > now_ms) {
      *until_ms = c.until_ms;
      return false;
    }
  }
  return true;
}

KeyHealth PoolKey::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return health_;
}

KeyPool::Pick KeyPool::pick(std::string_view model, std::span<const int64_t> exclude,
                            int64_t now_ms, std::string_view group) {
  Pick out;
  auto selection = selection_.load();
  const KeyList& list = *selection->keys;
  const Rotation* rotation = selection->schedule->rotation(group);
  if (!rotation || rotation->order.empty()) {
    out.why = Pick::Why::kNoKeys;
    return out;
  }
  const std::vector<uint32_t>& order = rotation->order;
  const size_t turns = order.size();
  uint64_t start = rotation->cursor.fetch_add(1, std::memory_order_relaxed);
  size_t disabled = 0, tried = 0, busy = 0, judged = 0;
  int64_t earliest = INT64_MAX;
  // A key of weight w has w turns in the order: past the first turn, each key is judged once.
  const bool repeats = rotation->members < turns;
  const uint32_t first = order[start % turns];
  std::vector<char> seen;  // allocated only once the first turn's key could not serve
  for (size_t i = 0; i < turns && judged < rotation->members; ++i) {
    const uint32_t index = order[(start + i) % turns];
    if (i > 0 && repeats) {
      if (seen.empty()) {
        seen.assign(list.size(), 0);
        seen[first] = 1;
      }
      if (seen[index]) continue;
      seen[index] = 1;
    }
    ++judged;
    const auto& key = list[index];
    if (std::find(exclude.begin(), exclude.end(), key->id()) != exclude.end()) {
      ++tried;
      continue;
    }
    int64_t until = 0;
    if (key->usable_for(model, now_ms, &until)) {
      {
        std::lock_guard<std::mutex> lock(key->mu_);
        // usable_for ran without this lock: look again, and take a half-open breaker's trial.
        bool blocked = false;
        for (Cooldown& c : key->health_.cooldowns) {
          if (!applies(c, model) || c.until_ms <= now_ms) continue;
          blocked = true;
          until = c.until_ms;
        }
        if (blocked) {
          earliest = std::min(earliest, until);
          continue;
        }
        // A key at its own limit is skipped, not penalised: no cooldown, no strike.
        int64_t wait = key->usage_.try_take(now_ms, key->rpm_.load(std::memory_order_relaxed),
                                            key->tpm_.load(std::memory_order_relaxed));
        if (wait > 0) {
          ++busy;
          earliest = std::min(earliest, now_ms + wait);
          continue;
        }
        if (key->tripped_.load(std::memory_order_relaxed)) {
          for (Cooldown& c : key->health_.cooldowns) {
            if (c.breaker && applies(c, model) && c.until_ms > 0) {
              c.until_ms = now_ms + kHalfOpenLeaseMs;  // this request is the trial
              key->cooling_until_.store(latest_until(key->health_.cooldowns));
            }
          }
        }
        key->health_.last_used_ms = now_ms;
      }
      key->dirty_.store(true, std::memory_order_relaxed);
      // Skipped keys must not hand their turns to the next healthy one (it would get a double
      // share and run out of quota first): the next pick starts after the turn taken here.
      if (i > 0) rotation->cursor.fetch_add(i, std::memory_order_relaxed);
      out.key = key;
      return out;
    }
    if (until == 0) {
      ++disabled;
    } else {
      earliest = std::min(earliest, until);
    }
  }
  const size_t members = rotation->members;
  if (disabled + tried == members) {
    out.why = tried > 0 ? Pick::Why::kAllTried : Pick::Why::kAllDisabled;
  } else {
    out.why = busy > 0 ? Pick::Why::kAllBusy : Pick::Why::kAllCooling;
    out.retry_after_ms = std::max<int64_t>(1, earliest - now_ms);
  }
  return out;
}

int64_t KeyPool::wait_for_model_ms(std::string_view model, int64_t now_ms) const {
  auto list = keys();
  int64_t earliest = INT64_MAX;
  for (const auto& key : *list) {
    int64_t until = 0;
    if (key->usable_for(model, now_ms, &until)) return 0;
    if (until > 0) earliest = std::min(earliest, until);
  }
  return earliest == INT64_MAX ? -1 : earliest - now_ms;
}

int KeyPool::enabled_count() const {
  int n = 0;
  const auto key_list = keys();  // held: a range-for over *temporary dangles
  for (const auto& k : *key_list) n += k->disabled() ? 0 : 1;
  return n;
}

bool KeyPool::record(PoolKey& key, std::string_view model, const Outcome& outcome,
                     const PoolPolicy& policy, int64_t now_ms) {
  switch (outcome.kind) {
    case OutcomeKind::kUnreachable:
      upstream_.unreachable(now_ms);  // the key never reached Google: nothing about it
      return true;
    case OutcomeKind::kTransient: {
      int threshold = std::min(kOutageKeys, std::max(1, enabled_count()));
      int64_t since = now_ms;
      if (upstream_.transient(key.id(), model, threshold, now_ms, &since)) {
        forgive_breakers_since(since);
        return true;
      }
      record_breaker_strike(key, model, outcome, policy, now_ms);
      return false;
    }
    default:
      upstream_.answered(model);  // any classified answer: Google is up and serving this model
      break;
  }
  std::optional<KeyChange> change;  // logged after the lock is released
  std::unique_lock<std::mutex> lock(key.mu_);
  KeyHealth& h = key.health_;
  switch (outcome.kind) {
    case OutcomeKind::kSuccess: {
      if (h.failures == 0 && h.last_error.empty()) {
        // Common case: nothing to change except a stale cooldown entry.
        auto it = std::find_if(h.cooldowns.begin(), h.cooldowns.end(),
                               [&](const Cooldown& c) { return c.model == model; });
        if (it == h.cooldowns.end()) return false;
      }
      if (std::any_of(h.cooldowns.begin(), h.cooldowns.end(), [&](const Cooldown& c) {
            return c.model == model && c.breaker && c.until_ms > 0;
          })) {
        change = KeyChange{KeyEvent::kRevived, std::string(model),
                           "circuit breaker closed for " + std::string(model)};
      }
      h.failures = 0;
      h.last_error.clear();
      h.cooldowns.erase(std::remove_if(h.cooldowns.begin(), h.cooldowns.end(),
                                       [&](const Cooldown& c) { return c.model == model; }),
                        h.cooldowns.end());
      break;
    }
    case OutcomeKind::kKeyInvalid:
      if (!h.disabled) change = KeyChange{KeyEvent::kDisabled, std::string(model), ""};
      h.disabled = true;
      h.reason = outcome.reason + " (HTTP " + std::to_string(outcome.status) + ")";
      h.last_error = h.reason;
      if (change) change->reason = h.reason;
      break;
    case OutcomeKind::kQuota: {
      std::string scope = model.empty() ? "*" : std::string(model);
      auto it = std::find_if(h.cooldowns.begin(), h.cooldowns.end(),
                             [&](const Cooldown& c) { return c.model == scope; });
      if (it == h.cooldowns.end()) {
        h.cooldowns.push_back(Cooldown{scope, 0, 0, 0});
        it = h.cooldowns.end() - 1;
      }
      it->strikes = (it->last_strike_ms > 0 && now_ms - it->last_strike_ms < kStrikeMemoryMs)
                        ? it->strikes + 1
                        : 1;
      it->last_strike_ms = now_ms;
      int64_t delay = outcome.retry_delay_ms;
      if (delay <= 0) {
        delay = policy.cooldown_default_ms;
        for (int s = 1; s < it->strikes && delay < policy.cooldown_max_ms; ++s) delay *= 2;
      }
      // The cap binds Google's RetryInfo too: a daily-quota answer ("retry in 20h") must not
      // sideline a key for longer than the operator allows; the next 429 simply cools it again.
      delay = std::min(delay, policy.cooldown_max_ms);
      bool was_cooling = it->until_ms > now_ms;
      it->until_ms = now_ms + std::max(delay, kMinCooldownMs);
      h.last_error = "quota exhausted for " + scope;
      if (!was_cooling) change = KeyChange{KeyEvent::kCooling, scope, "", it->until_ms};
      break;
    }
    case OutcomeKind::kClientError:
    case OutcomeKind::kTransient:
    case OutcomeKind::kUnreachable:
      return false;  // the caller's mistake says nothing about the key (others handled above)
  }
  key.publish_locked();
  lock.unlock();
  if (change) {
    metrics_.count_event(change->event);
    log_key_change(key, *change, now_ms);
  }
  return false;
}

void KeyPool::record_breaker_strike(PoolKey& key, std::string_view model, const Outcome& outcome,
                                    const PoolPolicy& policy, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(key.mu_);
  KeyHealth& h = key.health_;
  ++h.failures;
  h.last_error = outcome.reason;
  auto it = std::find_if(h.cooldowns.begin(), h.cooldowns.end(),
                         [&](const Cooldown& c) { return c.breaker && c.model == model; });
  if (it == h.cooldowns.end()) {
    h.cooldowns.push_back(Cooldown{std::string(model), 0, 0, 0, true});
    it = h.cooldowns.end() - 1;
  }
  ++it->strikes;
  it->last_strike_ms = now_ms;
  std::optional<KeyChange> change;
  if (policy.breaker_threshold > 0 && it->strikes >= policy.breaker_threshold) {
    // Opened (or reopened after a failed half-open trial): each reopening doubles the time.
    int opens = it->strikes - policy.breaker_threshold + 1;
    bool was_open = it->until_ms > now_ms;  // open, or half-open with its trial out
    it->until_ms = now_ms + breaker_delay(policy, opens);
    if (!was_open || opens > 1) {
      change = KeyChange{KeyEvent::kBreakerOpen, std::string(model), "", it->until_ms, h.failures};
    }
  }
  key.publish_locked();
  if (change) {
    metrics_.count_event(change->event);
    log_key_change(key, *change, now_ms);
  }
}

void KeyPool::forgive_breakers_since(int64_t since_ms) {
  const auto key_list = keys();  // held: a range-for over *temporary dangles
  for (const auto& key : *key_list) {
    std::lock_guard<std::mutex> lock(key->mu_);
    auto& cds = key->health_.cooldowns;
    size_t before = cds.size();
    cds.erase(std::remove_if(
                  cds.begin(), cds.end(),
                  [&](const Cooldown& c) { return c.breaker && c.last_strike_ms >= since_ms; }),
              cds.end());
    if (cds.size() == before) continue;
    key->publish_locked();
  }
}

template <class Change>
bool KeyPool::edit(int64_t id, Change change) {
  auto key = find(id);
  if (!key) return false;
  std::lock_guard<std::mutex> lock(key->mu_);
  change(key->health_);
  key->publish_locked();
  return true;
}

void KeyPool::note_revived(int64_t id, bool was_disabled, std::string_view how) {
  if (!was_disabled) return;
  metrics_.count_event(KeyEvent::kRevived);
  if (auto key = find(id)) {
    log_key_change(*key, KeyChange{KeyEvent::kRevived, "", std::string(how)}, now_unix_ms());
  }
}

bool KeyPool::enable(int64_t id) {
  bool was_disabled = false;
  bool found = edit(id, [&](KeyHealth& h) {
    was_disabled = h.disabled;
    h.disabled = false;
    h.reason.clear();
    h.failures = 0;
    h.changed_ms = now_unix_ms();  // a decision, even when the key was already enabled
  });
  if (found) note_revived(id, was_disabled, "enabled");
  return found;
}

bool KeyPool::disable(int64_t id, std::string reason) {
  bool was_disabled = true;
  std::string why = reason;
  bool found = edit(id, [&](KeyHealth& h) {
    was_disabled = h.disabled;
    h.disabled = true;
    h.reason = std::move(reason);
    h.changed_ms = now_unix_ms();
  });
  if (found && !was_disabled) {
    metrics_.count_event(KeyEvent::kDisabled);
    if (auto key = find(id)) log_key_change(*key, KeyChange{KeyEvent::kDisabled, "", why}, 0);
  }
  return found;
}

bool KeyPool::reset(int64_t id) {
  bool was_disabled = false;
  bool found = edit(id, [&](KeyHealth& h) {
    was_disabled = h.disabled;
    h.disabled = false;
    h.reason.clear();
    h.failures = 0;
    h.cooldowns.clear();
    h.last_error.clear();
    h.changed_ms = now_unix_ms();
  });
  if (found) note_revived(id, was_disabled, "reset");
  return found;
}

bool KeyPool::mark_checked(int64_t id, int64_t now_ms, std::string last_error) {
  return edit(id, [&](KeyHealth& h) {
    h.last_checked_ms = now_ms;
    if (!last_error.empty()) h.last_error = std::move(last_error);
  });
}

std::shared_ptr<PoolKey> KeyPool::find(int64_t id) const {
  auto list = keys();
  for (const auto& k : *list) {
    if (k->id() == id) return k;
  }
  return nullptr;
}

int64_t KeyPool::take_pinned(PoolKey& key, int64_t now_ms) {
  int64_t wait = key.usage_.try_take(now_ms, key.rpm_.load(std::memory_order_relaxed),
                                     key.tpm_.load(std::memory_order_relaxed));
  if (wait > 0) return wait;
  std::lock_guard lock(key.mu_);
  key.health_.last_used_ms = now_ms;
  key.dirty_.store(true, std::memory_order_relaxed);
  return 0;
}

bool KeyPool::contains_secret(std::string_view secret) const {
  auto list = keys();
  for (const auto& k : *list) {
    if (k->secret() == secret) return true;
  }
  return false;
}

std::vector<KeyHealth> KeyPool::take_dirty() {
  std::vector<KeyHealth> out;
  auto list = keys();
  for (const auto& k : *list) {
    if (k->dirty_.exchange(false, std::memory_order_relaxed)) out.push_back(k->health());
  }
  return out;
}

}  // namespace gemgate::pool
