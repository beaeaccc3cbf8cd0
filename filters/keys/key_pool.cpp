#include "filters/keys/key_pool.h"

#include <algorithm>
#include <chrono>

namespace gemgate::keys {

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

int64_t latest_until(const std::vector<Cooldown>& cooldowns) {
  int64_t latest = 0;
  for (const Cooldown& c : cooldowns) latest = std::max(latest, c.until_ms);
  return latest;
}

}  // namespace

PoolKey::PoolKey(int64_t id, std::string secret, KeyHealth health)
    : id_(id), secret_(std::move(secret)), health_(std::move(health)) {
  health_.id = id_;
  disabled_.store(health_.disabled);
  cooling_until_.store(latest_until(health_.cooldowns));
}

bool PoolKey::usable_for(std::string_view model, int64_t now_ms, int64_t* until_ms) const {
  if (disabled()) {
    *until_ms = 0;
    return false;
  }
  if (cooling_until_.load(std::memory_order_relaxed) <= now_ms) return true;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Cooldown& c : health_.cooldowns) {
    if ((c.model == model || c.model == "*") && c.until_ms > now_ms) {
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

void KeyPool::set_keys(std::vector<std::pair<std::string, KeyHealth>> secrets_with_health) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto current = keys_.load();
  auto next = std::make_shared<KeyList>();
  next->reserve(secrets_with_health.size());
  for (auto& [secret, health] : secrets_with_health) {
    int64_t wanted = health.id;  // clang 14 cannot capture a structured binding
    auto it = std::find_if(current->begin(), current->end(),
                           [wanted](const auto& k) { return k->id() == wanted; });
    if (it != current->end() && (*it)->secret() == secret) {
      next->push_back(*it);
    } else {
      int64_t id = health.id;
      next->push_back(std::make_shared<PoolKey>(id, std::move(secret), std::move(health)));
    }
  }
  keys_.publish(std::move(next));
}

void KeyPool::add_key(std::string secret, KeyHealth health) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto current = keys_.load();
  for (const auto& k : *current) {
    if (k->id() == health.id) return;
  }
  auto next = std::make_shared<KeyList>(*current);
  int64_t id = health.id;
  next->push_back(std::make_shared<PoolKey>(id, std::move(secret), std::move(health)));
  keys_.publish(std::move(next));
}

bool KeyPool::remove_key(int64_t id) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto current = keys_.load();
  auto next = std::make_shared<KeyList>();
  next->reserve(current->size());
  bool found = false;
  for (const auto& k : *current) {
    if (k->id() == id) {
      found = true;
    } else {
      next->push_back(k);
    }
  }
  if (found) keys_.publish(std::move(next));
  return found;
}

KeyPool::Pick KeyPool::pick(std::string_view model, const std::vector<int64_t>& exclude,
                            int64_t now_ms) {
  Pick out;
  auto list = keys_.load();
  size_t n = list->size();
  if (n == 0) {
    out.why = Pick::Why::kNoKeys;
    return out;
  }
  uint64_t start = cursor_.fetch_add(1, std::memory_order_relaxed);
  size_t disabled = 0, tried = 0;
  int64_t earliest = INT64_MAX;
  for (size_t i = 0; i < n; ++i) {
    const auto& key = (*list)[(start + i) % n];
    if (std::find(exclude.begin(), exclude.end(), key->id()) != exclude.end()) {
      ++tried;
      continue;
    }
    int64_t until = 0;
    if (key->usable_for(model, now_ms, &until)) {
      {
        std::lock_guard<std::mutex> lock(key->mu_);
        key->health_.last_used_ms = now_ms;
      }
      key->dirty_.store(true, std::memory_order_relaxed);
      // Skipped keys must not hand their turns to the next healthy one (it would get a double
      // share and run out of quota first): the next pick starts after the key picked here.
      if (i > 0) cursor_.fetch_add(i, std::memory_order_relaxed);
      out.key = key;
      return out;
    }
    if (until == 0) {
      ++disabled;
    } else {
      earliest = std::min(earliest, until);
    }
  }
  if (disabled + tried == n) {
    out.why = tried > 0 ? Pick::Why::kAllTried : Pick::Why::kAllDisabled;
  } else {
    out.why = Pick::Why::kAllCooling;
    out.retry_after_ms = earliest - now_ms;
  }
  return out;
}

int64_t KeyPool::wait_for_model_ms(std::string_view model, int64_t now_ms) const {
  auto list = keys_.load();
  int64_t earliest = INT64_MAX;
  for (const auto& key : *list) {
    int64_t until = 0;
    if (key->usable_for(model, now_ms, &until)) return 0;
    if (until > 0) earliest = std::min(earliest, until);
  }
  return earliest == INT64_MAX ? -1 : earliest - now_ms;
}

void KeyPool::record(PoolKey& key, std::string_view model, const Outcome& outcome,
                     const PoolPolicy& policy, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(key.mu_);
  KeyHealth& h = key.health_;
  switch (outcome.kind) {
    case OutcomeKind::kSuccess: {
      if (h.failures == 0 && h.last_error.empty()) {
        // Common case: nothing to change except a stale cooldown entry.
        auto it = std::find_if(h.cooldowns.begin(), h.cooldowns.end(),
                               [&](const Cooldown& c) { return c.model == model; });
        if (it == h.cooldowns.end()) return;
      }
      h.failures = 0;
      h.last_error.clear();
      h.cooldowns.erase(std::remove_if(h.cooldowns.begin(), h.cooldowns.end(),
                                       [&](const Cooldown& c) { return c.model == model; }),
                        h.cooldowns.end());
      break;
    }
    case OutcomeKind::kKeyInvalid:
      h.disabled = true;
      h.reason = outcome.reason + " (HTTP " + std::to_string(outcome.status) + ")";
      h.last_error = h.reason;
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
      it->until_ms = now_ms + std::max(delay, kMinCooldownMs);
      h.last_error = "quota exhausted for " + scope;
      break;
    }
    case OutcomeKind::kTransient:
      ++h.failures;
      h.last_error = outcome.reason;
      if (policy.max_failures > 0 && h.failures >= policy.max_failures) {
        h.disabled = true;
        h.reason =
            std::to_string(h.failures) + " consecutive failures (last: " + outcome.reason + ")";
      }
      break;
    case OutcomeKind::kClientError:
      return;  // the caller's mistake says nothing about the key
  }
  key.disabled_.store(h.disabled);
  key.cooling_until_.store(latest_until(h.cooldowns));
  key.dirty_.store(true, std::memory_order_relaxed);
}

bool KeyPool::enable(int64_t id) {
  auto key = find(id);
  if (!key) return false;
  std::lock_guard<std::mutex> lock(key->mu_);
  key->health_.disabled = false;
  key->health_.reason.clear();
  key->health_.failures = 0;
  key->disabled_.store(false);
  key->dirty_.store(true);
  return true;
}

bool KeyPool::disable(int64_t id, std::string reason) {
  auto key = find(id);
  if (!key) return false;
  std::lock_guard<std::mutex> lock(key->mu_);
  key->health_.disabled = true;
  key->health_.reason = std::move(reason);
  key->disabled_.store(true);
  key->dirty_.store(true);
  return true;
}

bool KeyPool::reset(int64_t id) {
  auto key = find(id);
  if (!key) return false;
  std::lock_guard<std::mutex> lock(key->mu_);
  key->health_.disabled = false;
  key->health_.reason.clear();
  key->health_.failures = 0;
  key->health_.cooldowns.clear();
  key->health_.last_error.clear();
  key->disabled_.store(false);
  key->cooling_until_.store(0);
  key->dirty_.store(true);
  return true;
}

bool KeyPool::mark_checked(int64_t id, int64_t now_ms, std::string last_error) {
  auto key = find(id);
  if (!key) return false;
  std::lock_guard<std::mutex> lock(key->mu_);
  key->health_.last_checked_ms = now_ms;
  if (!last_error.empty()) key->health_.last_error = std::move(last_error);
  key->dirty_.store(true);
  return true;
}

std::shared_ptr<PoolKey> KeyPool::find(int64_t id) const {
  auto list = keys_.load();
  for (const auto& k : *list) {
    if (k->id() == id) return k;
  }
  return nullptr;
}

bool KeyPool::contains_secret(std::string_view secret) const {
  auto list = keys_.load();
  for (const auto& k : *list) {
    if (k->secret() == secret) return true;
  }
  return false;
}

std::vector<KeyHealth> KeyPool::take_dirty() {
  std::vector<KeyHealth> out;
  auto list = keys_.load();
  for (const auto& k : *list) {
    if (k->dirty_.exchange(false, std::memory_order_relaxed)) out.push_back(k->health());
  }
  return out;
}

}  // namespace gemgate::keys
