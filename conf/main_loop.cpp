// The main thread's loop (the Gateway's second part; gateway.cpp builds and starts it): signal
// watchers, the housekeeping tick and its timers, shutdown, and the run until a stop signal.
// Everything here runs on the main thread.
#include "conf/main_loop.h"

#include <csignal>

#include "admin/cron_filter.h"
#include "admin/health_check.h"
#include "conf/gateway.h"
#include "conf/housekeeping_tasks.h"
#include "conf/storage_sinks.h"
#include "conf/stored_resources.h"
#include "core/clock.h"
#include "core/log.h"
#include "transports/transport.h"

namespace gemgate::conf {

namespace {
constexpr uint64_t kHealthFlushMs = 500;
constexpr uint64_t kTickMs = 1000;
constexpr int64_t kRetentionEveryMs = 10 * 60 * 1000;
constexpr int64_t kRowCapEveryMs = 5 * 1000;
}  // namespace

void Gateway::housekeeping_tick() {
  MainLoop& m = *main_;
  int64_t now = now_unix_ms();
  auto settings = settings_->load();
  Worker& w = *workers_.front();
  int64_t interval_s = settings->get(admin::kHealthCheckIntervalS);
  if (interval_s > 0 && now - m.last_health_check_ms >= interval_s * 1000) {
    m.last_health_check_ms = now;
    run_scheduled_health_check(w, pool_,
                               admin::health_check_options(*settings, upstream_base_url_));
  }
  usage_sync_->start();  // token usage written behind, the group's totals read back
  if (pool_->upstream().wants_probe()) {
    probe_outage(w, pool_, admin::health_check_options(*settings, upstream_base_url_));
  }
  if (group_ && now - m.last_group_resync_ms >= kGroupResyncEveryMs) {
    m.last_group_resync_ms = now;
    group_->on_change(storage::ChangeTopic::kAll);  // the safety net beside the feed
  }
  if (now - m.last_row_cap_ms >= kRowCapEveryMs) {
    m.last_row_cap_ms = now;
    if (int64_t max_rows = settings->get(kLogMaxRows); max_rows > 0) {
      cap_request_log(*storage_, max_rows);
    }
  }
  if (now - m.last_retention_ms >= kRetentionEveryMs) {
    m.last_retention_ms = now;
    prune_old_rows(*storage_, settings->get(kLogRetentionDays), now);
    prune_expired_responses(*storage_, now);
    prune_expired_resources(*storage_, *resources_, now);
  }
}

void Gateway::start_housekeeping() {
  MainLoop& m = *main_;
  uv_loop_t* loop = m.loop.loop();
  m.health_flush = std::make_unique<Timer>(loop);
  m.health_flush->start(
      kHealthFlushMs, [this] { write_behind_key_health(*pool_, *storage_); }, kHealthFlushMs);
  m.tick = std::make_unique<Timer>(loop);
  m.last_health_check_ms = now_unix_ms();
  m.tick->start(
      kTickMs, [this] { housekeeping_tick(); }, kTickMs);
}

void Gateway::watch_signals() {
  MainLoop& m = *main_;
  uv_loop_t* loop = m.loop.loop();
  auto on_signal = [](uv_signal_t* handle, int signum) {
    auto* self = static_cast<Gateway*>(handle->data);
    log::info(std::string("received ") + (signum == SIGINT ? "SIGINT" : "SIGTERM") +
              ": stopping (running requests may finish)");
    self->shutdown();
  };
  uv_signal_init(loop, &m.sigint);
  uv_signal_init(loop, &m.sigterm);
  m.sigint.data = this;
  m.sigterm.data = this;
  uv_signal_start(&m.sigint, on_signal, SIGINT);
  uv_signal_start(&m.sigterm, on_signal, SIGTERM);
  m.reload_soon = std::make_unique<Timer>(loop);
  uv_signal_init(loop, &m.sighup);
  m.sighup.data = this;
  uv_signal_start(
      &m.sighup,
      [](uv_signal_t* handle, int) { static_cast<Gateway*>(handle->data)->schedule_reload(); },
      SIGHUP);
}

void Gateway::schedule_reload() {
  MainLoop& m = *main_;
  if (m.stopping || m.reload_pending) return;  // signals before the reload runs make one
  m.reload_pending = true;
  m.reload_soon->start(0, [this] {
    main_->reload_pending = false;
    log::info("received SIGHUP: reloading the configuration");
    reload();
  });
}

void Gateway::shutdown() {
  MainLoop& m = *main_;
  if (m.stopping) return;
  m.stopping = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&m.sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&m.sigterm), nullptr);
  // Closing the watcher gives SIGHUP back its default action (ending the process): ignored
  // again at once, so a reload signal during the drain cannot cut the running requests.
  uv_close(reinterpret_cast<uv_handle_t*>(&m.sighup), nullptr);
  std::signal(SIGHUP, SIG_IGN);
  m.reload_soon.reset();
  m.health_flush.reset();
  m.tick.reset();
  uint64_t grace = config_.shutdown_grace_ms;
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    std::vector<server::Server*> servers;
    for (auto& s : servers_[i]) servers.push_back(s.get());
    w->post([w, servers, grace] {
      // The worker stops once every server on it has drained.
      auto left = std::make_shared<size_t>(servers.size());
      for (server::Server* s : servers) {
        s->shutdown(grace, [w, left] {
          if (--*left > 0) return;
          if (auto t = w->services().get<transport::Transport>()) t->close();
          w->stop();
        });
      }
    });
  }
  m.loop.stop();
}

int Gateway::run_until_signal() {
  main_->loop.run();
  for (auto& w : workers_) w->join();
  // Storage stops before the workers are destroyed: a job still queued may answer an exchange
  // through its worker (Worker::post drops it once the loop stopped, but the Worker must exist).
  if (feed_) feed_->stop();  // no re-read is queued after this; queued ones run in stop()
  write_behind_key_health(*pool_, *storage_);
  storage_->submit([meter = meter_](storage::Store& store) {
    if (auto r = TokenUsageSync::run(*meter, store, now_unix_ms()); !r.ok())
      log::warn("token usage not written at stop: " + r.error().message);
  });
  storage_->stop();
  servers_.clear();
  workers_.clear();
  log::info("stopped");
  return 0;
}

}  // namespace gemgate::conf
