// Gateway::reload(): SIGHUP and POST /admin/api/reload. The new configuration is read and built
// completely on the main thread — a fresh registry (so `settings:` defaults start from the
// built-in ones), the chains with the running services — and only when nothing is wrong is it
// published: one atomic swap each for the route table (chains included) and the limits, and a
// new settings snapshot. Exchanges hold the chain and settings they started with, connections
// the limits they were accepted with, so nothing running changes under them.
#include <csignal>

#include "conf/gateway.h"
#include "core/log.h"
#include "core/server/server.h"

namespace gemgate::conf {

namespace {

std::string listener_text(const std::vector<ListenerConfig>& listeners) {
  std::string out;
  for (const ListenerConfig& l : listeners) {
    out += (out.empty() ? "" : ", ") + l.host + ":" + std::to_string(l.port) +
           (l.own_routes ? " (own routes)" : "");
  }
  return out;
}

std::string base_url_of(const GatewayConfig& c) {
  const ConfigNode* base = c.root.get("upstream_base_url");
  return base ? base->text() : "";
}

}  // namespace

std::vector<std::string> Gateway::restart_required(const GatewayConfig& next) const {
  std::vector<std::string> out;
  auto differs = [&](const std::string& what, const std::string& was, const std::string& now) {
    if (was != now) out.push_back(what + " (running: " + was + "; file: " + now + ")");
  };
  differs("listeners", listener_text(configured_listeners_), listener_text(next.listeners));
  differs("workers", std::to_string(config_.workers), std::to_string(next.workers));
  // Neither URL is repeated: a PostgreSQL URL may hold a password.
  if (next.database_url != config_.database_url) out.push_back("storage.database_url");
  if (next.master_key_file != config_.master_key_file) out.push_back("storage.master_key_file");
  if (base_url_of(next) != upstream_base_url_) {
    // Chains that name *google got the new host; the health check and outage probes did not.
    out.push_back(
        "upstream_base_url (of the health check and outage probes; the chains use the "
        "new one)");
  }
  return out;
}

admin::ReloadReport Gateway::reload() {
  admin::ReloadReport report;
  auto registry = std::make_unique<Registry>();
  if (auto r = register_everything(*registry); !r.ok()) {
    report.errors.push_back(ConfigError{Mark{}, "internal error: " + r.error().message});
    return report;
  }
  ConfigErrors errors;
  log::Level level = log::Level::kInfo;
  auto next = read_config(source_, env_, registry->settings_schema(), &level, errors);
  AllRoutes all_routes;
  if (next) all_routes = build_all_routes(next->root, *registry, services_, errors);
  std::shared_ptr<const RouteTable> routes = all_routes.main;
  if (!errors.empty() || !routes) {
    report.errors = errors.errors();
    for (const std::string& line : errors.lines()) log::warn("reload: " + line);
    log::warn("reload: " + std::to_string(errors.size()) +
              " error(s); the running configuration is unchanged");
    return report;
  }

  report.ok = true;
  report.restart_required = restart_required(*next);
  // Every context gets the new limits; the top level's context its routes, and each listener
  // with routes of its own its table (a listener that gains or loses its own routes is a
  // listener change, reported above and applied at the next restart).
  auto limits = std::make_shared<const server::ServerLimits>(next->limits);
  for (auto& ctx : contexts_) ctx->limits.publish(limits);
  contexts_.front()->routes.publish(routes);
  for (size_t i = 0; i < listener_context_.size(); ++i) {
    size_t at = listener_context_[i];
    if (at == 0 || i >= all_routes.per_listener.size() || !all_routes.per_listener[i]) continue;
    contexts_[at]->routes.publish(all_routes.per_listener[i]);
  }
  log::set_level(level);
  config_.limits = next->limits;
  config_.shutdown_grace_ms = next->shutdown_grace_ms;
  config_.log_level = next->log_level;
  // New defaults from `settings:`; values an admin stored keep winning. Published from the
  // storage thread, where admin PATCHes publish too, so neither can overwrite the other's.
  std::shared_ptr<const SettingsSchema> schema = registry->shared_settings_schema();
  auto published = settings_;
  storage_->submit([schema, published](storage::Store&) {
    published->publish(std::make_shared<const Settings>(schema, published->load()->overrides()));
  });
  reload_registry_ = std::move(registry);
  size_t chains = next->root.get("chains")->entries().size();
  log::info("reload: configuration applied (" + std::to_string(chains) + " chain(s), " +
            std::to_string(routes->routes().size()) +
            " route(s)); running requests finish on "
            "the old one");
  for (const std::string& what : report.restart_required) {
    log::warn("reload: changed but kept until a restart: " + what);
  }
  return report;
}

}  // namespace gemgate::conf
