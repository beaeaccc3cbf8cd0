#include "pool/pool_metrics.h"

#include "core/clock.h"
#include "pool/key_pool.h"

namespace gemgate::pool {

AttemptOutcome attempt_outcome(const Outcome& outcome) {
  switch (outcome.kind) {
    case OutcomeKind::kSuccess:
      return AttemptOutcome::kOk;
    case OutcomeKind::kKeyInvalid:
      return AttemptOutcome::kKeyInvalid;
    case OutcomeKind::kQuota:
      return AttemptOutcome::kQuota;
    case OutcomeKind::kClientError:
      return AttemptOutcome::kClientError;
    case OutcomeKind::kTransient:
    case OutcomeKind::kUnreachable:
      break;
  }
  return outcome.kind_name == "timeout" ? AttemptOutcome::kTimeout : AttemptOutcome::kUpstreamError;
}

std::string_view attempt_outcome_name(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::kOk:
      return "ok";
    case AttemptOutcome::kKeyInvalid:
      return "key_invalid";
    case AttemptOutcome::kQuota:
      return "quota";
    case AttemptOutcome::kUpstreamError:
      return "upstream_error";
    case AttemptOutcome::kTimeout:
      return "timeout";
    case AttemptOutcome::kClientError:
      return "client_error";
    case AttemptOutcome::kCount:
      break;
  }
  return "other";
}

void collect_pool_metrics(const KeyPool& pool, metrics::Writer& w) {
  const PoolMetrics& m = pool.metrics();
  w.family("gemgate_upstream_attempts_total", "counter",
           "Upstream attempts by outcome (ok, key_invalid, quota, upstream_error, timeout, "
           "client_error).");
  for (size_t o = 0; o < static_cast<size_t>(AttemptOutcome::kCount); ++o) {
    auto outcome = static_cast<AttemptOutcome>(o);
    metrics::Label l[] = {{"outcome", attempt_outcome_name(outcome)}};
    w.sample("gemgate_upstream_attempts_total", l, m.attempts(outcome));
  }

  // A key is counted once, in the first state that applies: disabled, then breaker_open (some
  // model's circuit breaker is open now), then cooling (some model's quota cooldown runs), else
  // active.
  int64_t now = now_unix_ms();
  int64_t disabled = 0, breaker = 0, cooling = 0, active = 0;
  const auto keys = pool.keys();
  for (const auto& k : *keys) {
    if (k->disabled()) {
      ++disabled;
      continue;
    }
    KeyHealth h = k->health();
    bool open = false, cool = false;
    for (const Cooldown& c : h.cooldowns) {
      if (c.until_ms <= now) continue;
      (c.breaker ? open : cool) = true;
    }
    if (open)
      ++breaker;
    else if (cool)
      ++cooling;
    else
      ++active;
  }
  w.family("gemgate_keys", "gauge",
           "Pool keys by state (active, cooling, breaker_open, disabled).");
  std::pair<const char*, int64_t> states[] = {
      {"active", active}, {"cooling", cooling}, {"breaker_open", breaker}, {"disabled", disabled}};
  for (const auto& [state, n] : states) {
    metrics::Label l[] = {{"state", state}};
    w.sample("gemgate_keys", l, n);
  }

  w.family("gemgate_key_cooldowns_total", "counter",
           "Key x model cooldowns started: quota (a 429) or breaker (the circuit breaker opened).");
  metrics::Label quota[] = {{"kind", "quota"}};
  metrics::Label brk[] = {{"kind", "breaker"}};
  w.sample("gemgate_key_cooldowns_total", quota, m.events(KeyEvent::kCooling));
  w.sample("gemgate_key_cooldowns_total", brk, m.events(KeyEvent::kBreakerOpen));
  w.family("gemgate_key_state_changes_total", "counter",
           "Keys disabled (Google rejected the key, or an operator) and revived (enabled again).");
  metrics::Label dis[] = {{"change", "disabled"}};
  metrics::Label rev[] = {{"change", "revived"}};
  w.sample("gemgate_key_state_changes_total", dis, m.events(KeyEvent::kDisabled));
  w.sample("gemgate_key_state_changes_total", rev, m.events(KeyEvent::kRevived));
}

}  // namespace gemgate::pool
