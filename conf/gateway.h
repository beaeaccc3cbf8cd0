// Gateway: the running gemgate — storage thread, key pool, credentials, settings, and N workers
// each with a Server and a CurlMultiTransport — assembled from a GatewayConfig, run until a
// signal, then stopped in order (stop accepting, let requests finish, flush storage).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "admin/admin_services.h"
#include "conf/config.h"
#include "conf/config_load.h"
#include "conf/group_sync.h"
#include "conf/storage_sinks.h"
#include "conf/yaml_loader.h"
#include "core/credentials.h"
#include "core/metrics/metrics.h"
#include "core/metrics/request_metrics.h"
#include "core/registry.h"
#include "core/resource_map.h"
#include "core/server/server.h"
#include "core/settings.h"
#include "core/snapshot.h"
#include "core/worker.h"
#include "pool/key_pool.h"
#include "storage/change_feed.h"
#include "storage/storage_thread.h"
#include "transports/curl_multi_transport.h"
#include "transports/proxy_environment.h"

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

  // Teaches the log redactor what Gemini's keys look like, checks the environment, opens
  // storage, bootstraps from the environment, loads state, builds chains and starts the workers
  // listening. On failure nothing keeps running, and a failed environment check stored nothing.
  // `registry` must outlive the Gateway; `source` is what a reload re-reads.
  Result<void> start(GatewayConfig config, Registry& registry, const EnvLookup& env,
                     ConfigSource source = {});

  // Blocks until SIGINT/SIGTERM, then shuts down gracefully; SIGHUP reloads (see reload()).
  // Returns the process exit code.
  int run_until_signal();

  // Re-reads the configuration from the start's `source` and, when it is valid, puts its chains,
  // routes, limits, log level, shutdown grace and `settings:` defaults in force for new requests
  // and connections (running requests finish on what they started with). Parts that need a
  // restart (listeners, workers, storage, upstream_base_url of the health check) keep their old
  // value and are reported. An invalid file changes nothing; every error is logged and reported.
  // Main thread only.
  admin::ReloadReport reload();

 private:
  // Starts the main loop's timers (key-health write-behind, the housekeeping tick).
  void start_housekeeping();
  // SIGINT/SIGTERM stop, SIGHUP reloads: watched on the main loop from here on (handled once
  // the loop runs).
  void watch_signals();
  // One housekeeping tick (every kTickMs): the scheduled health check, outage probes, the
  // request-log row cap and retention, each when due.
  void housekeeping_tick();
  void shutdown();
  Result<void> load_state();
  // Adds the collectors of /metrics: requests and downstream gauges, the key pool, storage.
  void register_metric_collectors();
  Result<void> ensure_admin_token(const EnvLookup& env);
  // Opens storage and adds the environment's keys and tokens (start, after the checks).
  Result<void> open_storage(const EnvLookup& env);
  // Joins the group sharing the database: opens its ChangeFeed and starts re-reading on each
  // change (conf/group_sync.h). Nothing to do for an in-memory database.
  Result<void> start_group_sync(std::map<std::string, std::string> stored_settings);
  // Builds the services every chain is built with (kept for reloads).
  void build_services();
  // Starts the workers, each with its transport and server, listening. `count` workers.
  Result<void> start_workers(int count);
  // SIGHUP: a reload on a later main-loop turn; several signals before it runs make one.
  void schedule_reload();
  // What differs between the running config and `next` that only a restart applies.
  std::vector<std::string> restart_required(const GatewayConfig& next) const;

  GatewayConfig config_;
  Registry* registry_ = nullptr;
  std::unique_ptr<storage::StorageThread> storage_;
  std::shared_ptr<pool::KeyPool> pool_;
  std::shared_ptr<PublishedCredentials> credentials_;
  std::shared_ptr<TokenMeter> meter_ = std::make_shared<TokenMeter>();
  std::shared_ptr<ResourceMap> resources_;  // resource affinity (filters/affinity)
  std::unique_ptr<TokenUsageSync> usage_sync_;
  std::shared_ptr<const SettingsSchema> schema_;
  std::shared_ptr<Published<Settings>> settings_;
  // The top-level routes' context first, then one per listener with routes of its own.
  std::vector<std::unique_ptr<server::ServerContext>> contexts_;
  std::vector<size_t> listener_context_;  // per configured listener: its index in contexts_
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::vector<std::unique_ptr<server::Server>>> servers_;  // per worker, per context
  std::shared_ptr<metrics::Registry> metrics_ = std::make_shared<metrics::Registry>();
  std::shared_ptr<metrics::RequestMetrics> request_metrics_ =
      std::make_shared<metrics::RequestMetrics>();
  std::string upstream_base_url_;
  std::string document_mac_secret_;  // seals the Responses front's encrypted_content (secret)
  EnvLookup env_;
  ConfigSource source_;
  std::vector<ListenerConfig> configured_listeners_;  // as configured (port 0 stays 0)
  Services services_;                                 // what every chain is built with
  std::unique_ptr<Registry> reload_registry_;         // the registry of the last reload
  transport::ProxyEnvironment environment_proxy_;
  std::string upstream_ca_file_;  // GEMGATE_UPSTREAM_CA_FILE, "" = the system's CA bundle
  // What every worker's transport did about failed HTTP/2 sessions, for /metrics.
  std::shared_ptr<transport::CurlMultiTransport::SessionCounters> session_counters_ =
      std::make_shared<transport::CurlMultiTransport::SessionCounters>();
  std::string instance_id_;         // this gateway's name in a group
  std::string logged_instance_id_;  // on its log rows: GEMGATE_INSTANCE_ID; unnamed, instance_id_
                                    // on PostgreSQL and "" on SQLite
  std::map<std::string, std::string> loaded_settings_;  // as read by load_state (start only)
  std::unique_ptr<GroupSync> group_;                    // null without a shared database
  std::unique_ptr<storage::ChangeFeed> feed_;           // stopped before storage_
  struct MainLoop;
  std::unique_ptr<MainLoop> main_;
};

}  // namespace gemgate::conf
