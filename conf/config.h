// GatewayConfig: the top level of gemgate.yaml, read and checked (every problem reported with
// its file:line:column). Chains and routes are built later, once the services they need exist.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config_node.h"
#include "core/registry.h"
#include "core/router.h"
#include "core/server/limits.h"
#include "core/settings.h"

namespace gemgate::conf {

struct ListenerConfig {
  std::string host;
  int port = 0;
  Mark mark;
  // The listener names its own `routes:` (e.g. a metrics listener serving /metrics only)
  // instead of serving the top-level routes.
  bool own_routes = false;
};

struct GatewayConfig {
  ConfigNode root;  // the whole tree (chains and routes are read from it later)
  int workers = 0;  // 0 = one per core
  std::vector<ListenerConfig> listeners;
  server::ServerLimits limits;
  uint64_t shutdown_grace_ms = 15'000;
  std::string log_level = "info";
  std::string log_format = "text";  // "text" or "json" (one object per line)
  std::string database_url;
  // Key file for pool-key encryption when GEMGATE_MASTER_KEY is unset; "" = master.key beside
  // the database (created 0600 on the first start).
  std::string master_key_file;
};

// The built-in configuration (conf/gemgate.yaml compiled into the binary).
extern const char* const kDefaultConfigYaml;

// Reads the top level, reporting every problem in `errors` (the caller checks it: a config
// with errors is returned too, so its chains and settings can be checked in the same run).
// Returns nullopt only when the document is no map at all.
std::optional<GatewayConfig> parse_gateway_config(ConfigNode root, ConfigErrors& errors);

// Applies the `settings:` map as the defaults of `schema` (each value checked by its type).
void apply_config_settings(const ConfigNode& root, SettingsSchema& schema, ConfigErrors& errors);

// Builds every chain under `chains:` and the route table under `routes:`.
std::shared_ptr<const RouteTable> build_routes(const ConfigNode& root, const Registry& registry,
                                               Services& services, ConfigErrors& errors);

// The route tables of a configuration: the top-level one, and per listener (in `listeners:`
// order) its own table when it names `routes:`, else null (it serves the top-level routes).
struct AllRoutes {
  std::shared_ptr<const RouteTable> main;  // null when anything was wrong
  std::vector<std::shared_ptr<const RouteTable>> per_listener;
};
// Builds every chain once and every route table over them (the top level's and each
// listener's own). On any error `main` is null and the errors are in `errors`.
AllRoutes build_all_routes(const ConfigNode& root, const Registry& registry, Services& services,
                           ConfigErrors& errors);

}  // namespace gemgate::conf
