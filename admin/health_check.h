// The key health check: probes every disabled or cooling pool key (a minimal generateContent on
// the test model), concurrently up to a cap, and brings back those that answer 200. Run by the
// cron endpoint (GET /api/cron/health-check), on an interval, and by the admin's "verify".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/settings.h"
#include "core/worker.h"
#include "pool/key_pool.h"

namespace gemgate::admin {

struct HealthCheckResult {
  struct Failing {
    int64_t id = 0;
    std::string reason;
  };
  int checked = 0;
  int reactivated = 0;
  std::vector<Failing> still_failing;
  // {"checked":N,"reactivated":N,"still_failing":[{"id":N,"reason":"..."}]}
  std::string to_json() const;
};

struct HealthCheckOptions {
  std::string base_url;
  std::string model;         // setting kHealthCheckModel
  int concurrency = 8;       // setting kHealthCheckConcurrency
  std::string proxy;         // setting upstream::kProxy
  std::vector<int64_t> ids;  // probe exactly these keys; empty = every disabled or cooling key
};

// Reads model, concurrency and proxy from a settings snapshot.
HealthCheckOptions health_check_options(const Settings& settings, std::string base_url);

// Runs one health check on `worker`'s loop; `done` gets the result there. Loop thread only.
void run_health_check(Worker& worker, std::shared_ptr<pool::KeyPool> pool,
                      HealthCheckOptions options, std::function<void(HealthCheckResult)> done);

}  // namespace gemgate::admin
