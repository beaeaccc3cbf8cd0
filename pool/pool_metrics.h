// PoolMetrics: what the key pool saw, for /metrics — upstream attempts by outcome and key state
// changes (cooldowns, breakers opened, keys disabled and revived) — and the collector that adds
// the keys-by-state gauge read from the live pool at each scrape.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/metrics/metrics.h"
#include "pool/classify.h"

namespace gemgate::pool {

class KeyPool;

// The outcome label of an upstream attempt.
enum class AttemptOutcome : size_t {
  kOk,
  kKeyInvalid,
  kQuota,
  kUpstreamError,
  kTimeout,
  kClientError,
  kCount
};
AttemptOutcome attempt_outcome(const Outcome& outcome);
std::string_view attempt_outcome_name(AttemptOutcome outcome);

// A change of one key's state, logged once and counted.
enum class KeyEvent : size_t { kCooling, kBreakerOpen, kDisabled, kRevived, kCount };

class PoolMetrics {
 public:
  // Counts one upstream attempt (the keys filter, once per attempt). Lock-free. Thread-safe.
  void count_attempt(const Outcome& outcome) {
    attempts_.add(static_cast<size_t>(attempt_outcome(outcome)));
  }
  // Counts one key state change. Thread-safe.
  void count_event(KeyEvent event) { events_.add(static_cast<size_t>(event)); }
  uint64_t attempts(AttemptOutcome o) const { return attempts_.sum(static_cast<size_t>(o)); }
  uint64_t events(KeyEvent e) const { return events_.sum(static_cast<size_t>(e)); }

 private:
  metrics::ShardedCells attempts_{static_cast<size_t>(AttemptOutcome::kCount)};
  metrics::ShardedCells events_{static_cast<size_t>(KeyEvent::kCount)};
};

// Writes the pool's families: gemgate_upstream_attempts_total{outcome},
// gemgate_keys{state}, gemgate_key_cooldowns_total{kind}, gemgate_key_state_changes_total{change}.
// Thread-safe.
void collect_pool_metrics(const KeyPool& pool, metrics::Writer& w);

}  // namespace gemgate::pool
