// The housekeeping tasks of conf/housekeeping_tasks.h.
#include "conf/housekeeping_tasks.h"

#include <string>
#include <utility>

#include "core/log.h"
#include "pool/key_prober.h"

namespace gemgate::conf {

namespace {
constexpr int kRowCapChunks = 20;                         // at most 100 000 rows per run
constexpr int64_t kFineUsageKeepMs = 3 * 3'600'000;       // second/minute rollups: recent end only
constexpr int64_t kUsageRetentionMs = 90LL * 86'400'000;  // usage rollups kept 90 days
}  // namespace

void run_scheduled_health_check(Worker& w, std::shared_ptr<pool::KeyPool> pool,
                                admin::HealthCheckOptions options) {
  w.post([&w, pool = std::move(pool), options = std::move(options)] {
    admin::run_health_check(w, pool, options, [](admin::HealthCheckResult r) {
      if (r.checked > 0) {
        log::info("scheduled health check: checked " + std::to_string(r.checked) +
                  ", reactivated " + std::to_string(r.reactivated));
      }
    });
  });
}

void probe_outage(Worker& w, std::shared_ptr<pool::KeyPool> pool,
                  const admin::HealthCheckOptions& options) {
  pool::ProbeOptions probe{options.base_url, options.model, 10'000, options.proxy};
  w.post([&w, pool = std::move(pool), probe] { pool::probe_upstream_outage(w, pool, probe); });
}

void cap_request_log(storage::StorageThread& storage, int64_t max_rows) {
  auto job = [max_rows](storage::Store& store) {
    auto n = store.cap_request_logs(max_rows, kRowCapChunks);
    if (!n.ok()) {
      log::warn("housekeeping: request log row cap: " + n.error().message);
    } else if (*n > 0) {
      log::info("row cap: deleted " + std::to_string(*n) +
                " oldest request log row(s) beyond log_max_rows");
    }
  };
  storage.submit(std::move(job), storage::StorageThread::JobKind::kBackground);
}

void prune_old_rows(storage::StorageThread& storage, int64_t days, int64_t now) {
  auto job = [days, now](storage::Store& store) {
    if (days > 0) {
      int64_t cutoff = now - days * 86'400'000;
      auto a = store.prune_request_logs(cutoff);
      auto b = store.prune_error_logs(cutoff);
      if (a.ok() && b.ok() && (*a > 0 || *b > 0)) {
        log::info("retention: deleted " + std::to_string(*a) + " request and " +
                  std::to_string(*b) + " error log row(s)");
      }
    }
    // Statistics outlive the logs (the dashboard shows up to 30 days) but not forever.
    auto usage = store.prune_usage(now - kUsageRetentionMs);
    if (auto fine = store.prune_fine_usage(now - kFineUsageKeepMs); !fine.ok()) {
      log::warn("housekeeping: " + fine.error().message);
    }
    auto sessions = store.purge_expired_sessions(now);

    if (!usage.ok() || !sessions.ok()) {
      log::warn("housekeeping: " + (usage.ok() ? sessions.error().message : usage.error().message));
    }
  };
  storage.submit(std::move(job), storage::StorageThread::JobKind::kBackground);
}

void prune_expired_responses(storage::StorageThread& storage, int64_t now) {
  auto job = [now](storage::Store& store) {
    auto n = store.prune_responses(now);
    if (!n.ok()) {
      log::warn("housekeeping: stored responses: " + n.error().message);
    } else if (*n > 0) {
      log::info("retention: deleted " + std::to_string(*n) + " expired stored response(s)");
    }
  };
  storage.submit(std::move(job), storage::StorageThread::JobKind::kBackground);
}

}  // namespace gemgate::conf
