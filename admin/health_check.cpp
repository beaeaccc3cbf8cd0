#include "admin/health_check.h"

#include <algorithm>

#include "admin/cron_filter.h"
#include "core/json.h"
#include "core/log.h"
#include "filters/upstream/upstream_filter.h"
#include "pool/key_prober.h"

namespace gemgate::admin {

namespace {

// One run: a queue of keys, at most `concurrency` probes in flight.
struct Run : std::enable_shared_from_this<Run> {
  Worker* worker = nullptr;
  std::shared_ptr<pool::KeyPool> pool;
  HealthCheckOptions options;
  std::vector<std::shared_ptr<pool::PoolKey>> queue;
  size_t next = 0;
  int in_flight = 0;
  HealthCheckResult result;
  std::function<void(HealthCheckResult)> done;

  void pump() {
    while (in_flight < options.concurrency && next < queue.size()) {
      auto key = queue[next++];
      ++in_flight;
      pool::ProbeOptions probe{options.base_url, options.model, 30'000, options.proxy};
      pool::probe_key(*worker, *key, probe,
                      [self = shared_from_this(), key](pool::Outcome outcome) {
                        self->finished(*key, outcome);
                      });
    }
    if (in_flight == 0 && next >= queue.size() && done) {
      auto cb = std::move(done);
      done = nullptr;
      cb(std::move(result));
    }
  }

  void finished(pool::PoolKey& key, const pool::Outcome& outcome) {
    --in_flight;
    ++result.checked;
    int64_t now = now_unix_ms();
    if (outcome.kind == pool::OutcomeKind::kSuccess) {
      bool was_disabled = key.disabled();
      int64_t until = 0;
      bool was_usable = key.usable_for(options.model, now, &until);
      if (was_disabled) pool->enable(key.id());
      pool::PoolPolicy policy;
      pool->record(key, options.model, outcome, policy, now);  // lifts the test model's cooldown
      pool->record(key, "*", outcome, policy, now);            // and a model-wide one
      pool->mark_checked(key.id(), now, "");
      if (was_disabled || !was_usable) ++result.reactivated;
      log::info("health check: key " + std::to_string(key.id()) + " answers again");
    } else {
      result.still_failing.push_back(
          {key.id(), outcome.reason.empty() ? outcome.kind_name : outcome.reason});
      if (outcome.kind == pool::OutcomeKind::kQuota) {
        pool->record(key, options.model, outcome, pool::PoolPolicy{}, now);
      } else if (outcome.kind == pool::OutcomeKind::kKeyInvalid && !key.disabled()) {
        pool->disable(key.id(), outcome.reason + " (HTTP " + std::to_string(outcome.status) + ")");
      }
      pool->mark_checked(key.id(), now, outcome.reason);
    }
    pump();
  }
};

}  // namespace

std::string HealthCheckResult::to_json() const {
  std::string out = "{\"checked\":" + std::to_string(checked) +
                    ",\"reactivated\":" + std::to_string(reactivated) + ",\"still_failing\":[";
  for (size_t i = 0; i < still_failing.size(); ++i) {
    if (i) out += ",";
    out += "{\"id\":" + std::to_string(still_failing[i].id) +
           ",\"reason\":" + json_quote(still_failing[i].reason) + "}";
  }
  return out + "]}";
}

HealthCheckOptions health_check_options(const Settings& settings, std::string base_url) {
  HealthCheckOptions o;
  o.base_url = std::move(base_url);
  o.model = settings.get(kHealthCheckModel);
  o.concurrency = static_cast<int>(std::max<int64_t>(1, settings.get(kHealthCheckConcurrency)));
  o.proxy = settings.get(upstream::kProxy);
  return o;
}

void run_health_check(Worker& worker, std::shared_ptr<pool::KeyPool> pool,
                      HealthCheckOptions options, std::function<void(HealthCheckResult)> done) {
  auto run = std::make_shared<Run>();
  run->worker = &worker;
  run->pool = pool;
  run->done = std::move(done);
  int64_t now = now_unix_ms();
  const auto key_list = pool->keys();  // held: a range-for over *temporary dangles
  for (const auto& key : *key_list) {
    if (!options.ids.empty()) {
      if (std::find(options.ids.begin(), options.ids.end(), key->id()) != options.ids.end()) {
        run->queue.push_back(key);
      }
      continue;
    }
    pool::KeyHealth h = key->health();
    if (h.disabled && h.reason == pool::kDisabledByAdmin) continue;  // the operator's decision
    bool cooling = false;
    for (const auto& c : h.cooldowns) cooling = cooling || c.until_ms > now;
    if (h.disabled || cooling) run->queue.push_back(key);
  }
  run->options = std::move(options);
  run->pump();
}

}  // namespace gemgate::admin
