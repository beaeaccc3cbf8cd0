#include "conf/storage_sinks.h"

#include "core/clock.h"
#include "core/log.h"

namespace gemgate::conf {

void StorageLogSink::record_request(const StreamInfo& info) {
  // A written row reused: every field is assigned (it holds that row's values), text into the
  // capacity it kept, so a warm queue stores a request without a malloc.
  storage::RequestLogRow row = thread_.spare_request_row();
  row.id = 0;
  row.time_ms = info.start_unix_ms;
  row.route = info.route;
  row.method = info.method;
  row.path = info.path;
  row.model = info.model;
  row.key_id.reset();
  if (info.key_id >= 0) row.key_id = info.key_id;
  row.failed_key_ids.clear();
  for (int64_t id : info.failed_key_ids) {
    if (id != info.key_id) row.failed_key_ids.push_back(id);
  }
  row.token_id.reset();
  if (info.token_id >= 0) row.token_id = info.token_id;
  row.status = info.client_aborted && info.status == 0 ? 499 : info.status;
  row.latency_ms = info.latency_ms();
  row.attempts = info.attempts;
  row.stream = info.stream;
  row.prompt_tokens = info.usage.prompt;
  row.completion_tokens = info.usage.completion;
  row.thoughts_tokens = info.usage.thoughts;
  row.cached_tokens = info.usage.cached;
  row.total_tokens = info.usage.total;
  if (info.error.empty()) {
    row.error.clear();
  } else {
    row.error = log::redact(info.error);
  }
  row.request_id = info.request_id;
  row.instance_id = instance_id_;
  thread_.append_request_log(std::move(row));
}

void StorageLogSink::record_attempt_failure(const AttemptFailure& f) {
  storage::ErrorLogRow row;
  row.time_ms = f.time_ms;
  if (f.key_id >= 0) row.key_id = f.key_id;
  row.model = log::redact(f.model);  // the model comes from the path, which may carry a secret
  row.status = f.status;
  row.kind = f.kind;
  row.message = log::redact(f.message);
  row.route = f.route;
  row.instance_id = instance_id_;
  thread_.append_error_log(std::move(row));
}

storage::KeyHealthRow to_stored(const pool::KeyHealth& h) {
  storage::KeyHealthRow s;
  s.key_id = h.id;
  s.disabled = h.disabled;
  s.disabled_reason = h.reason;
  s.consecutive_failures = h.failures;
  for (const pool::Cooldown& c : h.cooldowns)
    s.cooldowns.push_back({pool::stored_cooldown_model(c), c.until_ms, c.strikes});
  s.last_used_at = h.last_used_ms;
  s.last_error = h.last_error;
  s.last_checked_at = h.last_checked_ms;
  s.health_changed_at = h.changed_ms;
  return s;
}

pool::KeyHealth from_stored(const storage::KeyHealthRow& s) {
  pool::KeyHealth h;
  h.id = s.key_id;
  h.disabled = s.disabled;
  h.reason = s.disabled_reason;
  h.failures = s.consecutive_failures;
  for (const storage::ModelCooldown& c : s.cooldowns) {
    h.cooldowns.push_back(pool::cooldown_from_stored(c.model, c.until_ms, c.strikes));
  }
  h.last_used_ms = s.last_used_at;
  h.last_error = s.last_error;
  h.last_checked_ms = s.last_checked_at;
  h.changed_ms = s.health_changed_at;
  return h;
}

pool::KeyPolicy from_stored(const storage::KeyPolicyRow& p) {
  return pool::KeyPolicy{p.weight, p.group, p.rpm, p.tpm, p.proxy, p.note};
}

void collect_storage_metrics(const storage::StorageThread& thread, metrics::Writer& w) {
  storage::StorageThread::Counters c = thread.counters();
  w.family("gemgate_storage_queue_rows", "gauge", "Log rows waiting in the write-behind queue.");
  w.sample("gemgate_storage_queue_rows", {}, static_cast<uint64_t>(thread.queued_rows()));
  w.family("gemgate_storage_rows_written_total", "counter", "Log rows committed to storage.");
  w.sample("gemgate_storage_rows_written_total", {}, c.rows_written);
  w.family("gemgate_storage_rows_dropped_total", "counter",
           "Log rows lost: the queue was full, a write failed for good, or they came after stop.");
  w.sample("gemgate_storage_rows_dropped_total", {}, c.rows_dropped);
  w.family("gemgate_storage_write_errors_total", "counter", "Failed write-behind transactions.");
  w.sample("gemgate_storage_write_errors_total", {}, c.write_errors);
}

void write_behind_key_health(pool::KeyPool& pool, storage::StorageThread& thread) {
  for (const pool::KeyHealth& h : pool.take_dirty()) thread.update_key_health(to_stored(h));
}

Result<void> TokenUsageSync::run(TokenMeter& meter, storage::Store& store, int64_t now_ms) {
  std::vector<TokenMeter::DayCount> deltas = meter.take_deltas();
  if (!deltas.empty()) {
    std::vector<storage::TokenDayUsage> rows;
    rows.reserve(deltas.size());
    for (const auto& d : deltas) rows.push_back({d.token_id, d.day, d.requests, d.tokens});
    if (auto r = store.add_token_usage(rows); !r.ok()) {
      meter.restore_deltas(deltas);
      return r;
    }
  }
  auto stored = store.load_token_usage(utc_month_start(utc_day(now_ms)));
  if (!stored.ok()) return stored.error();
  std::vector<TokenMeter::DayCount> totals;
  totals.reserve(stored->size());
  for (const auto& r : *stored) totals.push_back({r.token_id, r.day, r.requests, r.tokens});
  meter.apply_stored(totals, now_ms);
  return {};
}

void TokenUsageSync::start() {
  if (queued_->exchange(true)) return;
  auto sync = [meter = meter_, flag = queued_](storage::Store& store) {
    flag->store(false);
    static std::atomic<int64_t> last_warning_ms{0};
    const int64_t now = now_unix_ms();
    if (auto r = run(*meter, store, now); !r.ok() && now - last_warning_ms.load() >= 60'000) {
      last_warning_ms.store(now);  // one line a minute while storage fails, not one a second
      log::warn("token usage: " + r.error().message +
                " (kept in memory, written with the next sync)");
    }
  };
  bool queued = thread_.submit(std::move(sync), storage::StorageThread::JobKind::kBackground);
  if (!queued) queued_->store(false);
}

}  // namespace gemgate::conf
