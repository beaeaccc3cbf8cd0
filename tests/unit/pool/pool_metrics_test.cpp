// PoolMetrics: attempt outcomes map to their labels; each key state change (cooling, breaker
// open, disabled, revived) is counted once however many outcomes repeat it; the collector's
// keys-by-state gauge and families.
#include "pool/pool_metrics.h"

#include <doctest/doctest.h>

#include "pool/key_pool.h"

using namespace gemgate;
using namespace gemgate::pool;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::shared_ptr<KeyPool> pool_of(int n) {
  auto pool = std::make_shared<KeyPool>();
  std::vector<std::pair<std::string, KeyHealth>> keys;
  for (int64_t id = 1; id <= n; ++id) {
    KeyHealth h;
    h.id = id;
    keys.emplace_back("AIzaSyMETRICS" + std::to_string(id) + "xxxxxxxxxxxxxxxxxxxxxxxx", h);
  }
  pool->set_keys(std::move(keys));
  return pool;
}

Outcome outcome(OutcomeKind kind, std::string kind_name = "") {
  Outcome o;
  o.kind = kind;
  o.status = kind == OutcomeKind::kQuota ? 429 : kind == OutcomeKind::kKeyInvalid ? 400 : 500;
  o.reason = "test";
  o.kind_name = std::move(kind_name);
  return o;
}

}  // namespace

TEST_CASE("attempt outcomes map to the documented labels") {
  CHECK(attempt_outcome_name(attempt_outcome(outcome(OutcomeKind::kSuccess))) == "ok");
  CHECK(attempt_outcome_name(attempt_outcome(outcome(OutcomeKind::kKeyInvalid))) == "key_invalid");
  CHECK(attempt_outcome_name(attempt_outcome(outcome(OutcomeKind::kQuota))) == "quota");
  CHECK(attempt_outcome_name(attempt_outcome(outcome(OutcomeKind::kClientError))) ==
        "client_error");
  CHECK(attempt_outcome_name(attempt_outcome(outcome(OutcomeKind::kTransient, "timeout"))) ==
        "timeout");
  CHECK(attempt_outcome_name(attempt_outcome(outcome(OutcomeKind::kTransient, "upstream_503"))) ==
        "upstream_error");
  CHECK(attempt_outcome_name(attempt_outcome(outcome(OutcomeKind::kUnreachable, "connect"))) ==
        "upstream_error");
}

TEST_CASE("a state change is counted once, not once per outcome that repeats it") {
  auto pool = pool_of(3);
  PoolPolicy policy;
  policy.breaker_threshold = 2;
  auto k1 = pool->find(1), k2 = pool->find(2), k3 = pool->find(3);
  // Quota: the first 429 starts the cooldown; more 429s in flight while it runs change nothing.
  for (int i = 0; i < 5; ++i)
    pool->record(*k1, "m", outcome(OutcomeKind::kQuota), policy, kNow + i);
  CHECK(pool->metrics().events(KeyEvent::kCooling) == 1);
  // Invalid key: disabled once.
  for (int i = 0; i < 3; ++i) {
    pool->record(*k2, "m", outcome(OutcomeKind::kKeyInvalid), policy, kNow + i);
  }
  CHECK(pool->metrics().events(KeyEvent::kDisabled) == 1);
  // Breaker: opens at the threshold.
  pool->record(*k3, "m", outcome(OutcomeKind::kTransient, "upstream_500"), policy, kNow);
  CHECK(pool->metrics().events(KeyEvent::kBreakerOpen) == 0);
  pool->record(*k3, "m", outcome(OutcomeKind::kTransient, "upstream_500"), policy, kNow + 1);
  CHECK(pool->metrics().events(KeyEvent::kBreakerOpen) == 1);
  // Revived: enabling a disabled key counts; enabling an enabled one does not.
  CHECK(pool->enable(2));
  CHECK(pool->enable(2));
  CHECK(pool->metrics().events(KeyEvent::kRevived) == 1);
  // An operator's disable is a change too, once.
  CHECK(pool->disable(1, std::string(kDisabledByAdmin)));
  CHECK(pool->disable(1, std::string(kDisabledByAdmin)));
  CHECK(pool->metrics().events(KeyEvent::kDisabled) == 2);
}

TEST_CASE("the collector writes attempts, keys by state and state changes") {
  auto pool = pool_of(2);
  pool->metrics().count_attempt(outcome(OutcomeKind::kSuccess));
  pool->metrics().count_attempt(outcome(OutcomeKind::kSuccess));
  pool->metrics().count_attempt(outcome(OutcomeKind::kTransient, "timeout"));
  pool->record(*pool->find(1), "m", outcome(OutcomeKind::kKeyInvalid), PoolPolicy{}, kNow);
  metrics::Writer w;
  collect_pool_metrics(*pool, w);
  std::string text = w.take();
  CHECK(text.find("gemgate_upstream_attempts_total{outcome=\"ok\"} 2\n") != std::string::npos);
  CHECK(text.find("gemgate_upstream_attempts_total{outcome=\"timeout\"} 1\n") != std::string::npos);
  CHECK(text.find("gemgate_keys{state=\"disabled\"} 1\n") != std::string::npos);
  CHECK(text.find("gemgate_keys{state=\"active\"} 1\n") != std::string::npos);
  CHECK(text.find("gemgate_key_state_changes_total{change=\"disabled\"} 1\n") != std::string::npos);
  CHECK(text.find("AIza") == std::string::npos);  // no key, not even a mask
}
