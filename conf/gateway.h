// Gateway: the running gemgate — storage thread, key pool, credentials, settings, and N workers
// each with a Server and a CurlMultiTransport — assembled from a GatewayConfig, run until a
// signal, then stopped in order (stop accepting, let requests finish, flush storage).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conf/config.h"
#include "conf/yaml_loader.h"
#include "core/credentials.h"
#include "core/metrics/metrics.h"
#include "core/metrics/request_metrics.h"
#include "core/registry.h"
#include "core/server/server.h"
#include "core/settings.h"
#include "core/snapshot.h"
#include "core/worker.h"
#include "pool/key_pool.h"
#include "storage/storage_thread.h"

namespace gemgate::conf {

// Days request and error log rows are kept (0 = forever); read by the housekeeping timer.
inline constexpr Setting<int64_t> kLogRetentionDays{"log_retention_days"};
// At most this many request log rows are kept (0 = no cap); read by the housekeeping timer.
inline constexpr Setting<int64_t> kLogMaxRows{"log_max_rows"};

// Builds a registry with every built-in filter, the "google" error dialect as the default, and
// gemgate's own settings (kLogRetentionDays, kLogMaxRows) declared.
Result<void> register_everything(Registry& registry);

// Builds the services every chain may ask for, with empty state (for --check-config).
Services validation_services();

class Gateway {
 public:
  Gateway();
  ~Gateway();

  // Teaches the log redactor what Gemini's keys look like, opens storage, bootstraps from the
  // environment, loads state, builds chains and starts the workers listening. On failure
  // nothing keeps running. `registry` must outlive the Gateway.
  Result<void> start(GatewayConfig config, Registry& registry, const EnvLookup& env);

  // Blocks until SIGINT/SIGTERM, then shuts down gracefully. Returns the process exit code.
  int run_until_signal();

 private:
  // Starts the main loop's timers (key-health write-behind, the housekeeping tick) and signals.
  void start_housekeeping();
  // One housekeeping tick (every kTickMs): the scheduled health check, outage probes, the
  // request-log row cap and retention, each when due.
  void housekeeping_tick();
  void shutdown();
  Result<void> load_state();
  // Adds the collectors of /metrics: requests and downstream gauges, the key pool, storage.
  void register_metric_collectors();
  Result<void> ensure_admin_token(const EnvLookup& env);

  GatewayConfig config_;
  Registry* registry_ = nullptr;
  std::unique_ptr<storage::StorageThread> storage_;
  std::shared_ptr<pool::KeyPool> pool_;
  std::shared_ptr<PublishedCredentials> credentials_;
  std::shared_ptr<const SettingsSchema> schema_;
  std::shared_ptr<Published<Settings>> settings_;
  // The top-level routes' context first, then one per listener with routes of its own.
  std::vector<std::unique_ptr<server::ServerContext>> contexts_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::vector<std::unique_ptr<server::Server>>> servers_;  // per worker, per context
  std::shared_ptr<metrics::Registry> metrics_ = std::make_shared<metrics::Registry>();
  std::shared_ptr<metrics::RequestMetrics> request_metrics_ =
      std::make_shared<metrics::RequestMetrics>();
  std::string upstream_base_url_;
  struct MainLoop;
  std::unique_ptr<MainLoop> main_;
};

}  // namespace gemgate::conf
