#include "conf/config.h"

#include <rapidjson/document.h>

#include "core/json.h"
#include "core/server/server.h"
#include "storage/open_store.h"

namespace gemgate::conf {

namespace {

void read_limits(const ConfigNode& node, server::ServerLimits& l, ConfigErrors& errors) {
  if (node.is_null()) return;
  config::expect_keys(
      node,
      {"max_url_bytes", "max_header_bytes", "max_headers", "max_body_bytes", "head_timeout",
       "body_timeout", "keepalive_timeout", "write_timeout", "max_connections",
       "max_requests_per_connection", "write_buffer_high", "write_buffer_low", "min_body_rate",
       "body_rate_window", "request_timeout", "max_buffered_body_bytes"},
      errors);
  auto size = [&](const char* key, size_t& out) {
    int64_t v = static_cast<int64_t>(out);
    if (config::read_size(node, key, &v, errors)) {
      if (v <= 0)
        errors.add(node.get(key)->mark(), std::string("'") + key + "' must be positive");
      else
        out = static_cast<size_t>(v);
    }
  };
  auto duration = [&](const char* key, uint64_t& out) {
    int64_t v = static_cast<int64_t>(out);
    if (config::read_duration_ms(node, key, &v, errors)) {
      if (v <= 0)
        errors.add(node.get(key)->mark(), std::string("'") + key + "' must be positive");
      else
        out = static_cast<uint64_t>(v);
    }
  };
  auto count = [&](const char* key, size_t& out, int64_t max) {
    int64_t v = static_cast<int64_t>(out);
    if (config::read_int(node, key, 1, max, &v, errors)) out = static_cast<size_t>(v);
  };
  size("max_url_bytes", l.max_url_bytes);
  size("max_header_bytes", l.max_header_bytes);
  count("max_headers", l.max_headers, 10000);
  size("max_body_bytes", l.max_body_bytes);
  duration("head_timeout", l.head_timeout_ms);
  duration("body_timeout", l.body_timeout_ms);
  {
    // 0 turns the rate check off, so it is read without the positivity rule of size().
    int64_t v = static_cast<int64_t>(l.min_body_rate);
    if (config::read_size(node, "min_body_rate", &v, errors)) {
      if (v < 0)
        errors.add(node.get("min_body_rate")->mark(), "'min_body_rate' must not be negative");
      else
        l.min_body_rate = static_cast<size_t>(v);
    }
  }
  duration("body_rate_window", l.body_rate_window_ms);
  duration("request_timeout", l.request_timeout_ms);
  size("max_buffered_body_bytes", l.max_buffered_body_bytes);
  duration("keepalive_timeout", l.keepalive_timeout_ms);
  duration("write_timeout", l.write_timeout_ms);
  count("max_connections", l.max_connections, 1'000'000);
  count("max_requests_per_connection", l.max_requests_per_connection, 1'000'000'000);
  size("write_buffer_high", l.write_high_watermark);
  size("write_buffer_low", l.write_low_watermark);
  if (l.write_low_watermark >= l.write_high_watermark) {
    errors.add(node.mark(), "'write_buffer_low' must be below 'write_buffer_high'");
  }
}

// Converts a YAML value to JSON text for a setting of `type`.
std::optional<std::string> to_json(const ConfigNode& node, SettingType type, std::string* why) {
  auto quote = [](const std::string& s) { return json_quote(s); };
  switch (type) {
    case SettingType::kBool:
    case SettingType::kInt:
      if (!node.is_scalar()) {
        *why = "must be a single value";
        return std::nullopt;
      }
      if (node.text() == "yes" || node.text() == "on") return std::string("true");
      if (node.text() == "no" || node.text() == "off") return std::string("false");
      {
        // Text that is no JSON value at all ("lots") is passed as a string, so the type check
        // says "must be a whole number" instead of "not valid JSON".
        rapidjson::Document d;
        return json::parse(d, node.text()) ? node.text() : quote(node.text());
      }
    case SettingType::kString:
    case SettingType::kSecret:
      if (node.is_null()) return std::string("\"\"");
      if (!node.is_scalar()) {
        *why = "must be a single value";
        return std::nullopt;
      }
      return quote(node.text());
    case SettingType::kJson: {
      if (node.is_null()) return std::string("null");
      if (node.is_scalar()) {
        rapidjson::Document d;
        return json::parse(d, node.text()) ? node.text() : quote(node.text());
      }
      std::string out;
      if (node.is_sequence()) {
        out = "[";
        for (const ConfigNode& item : node.items()) {
          auto v = to_json(item, SettingType::kJson, why);
          if (!v) return std::nullopt;
          out += (out.size() > 1 ? "," : "") + *v;
        }
        return out + "]";
      }
      out = "{";
      for (const auto& [k, v] : node.entries()) {
        auto value = to_json(v, SettingType::kJson, why);
        if (!value) return std::nullopt;
        out += (out.size() > 1 ? "," : "") + quote(k) + ":" + *value;
      }
      return out + "}";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<GatewayConfig> parse_gateway_config(ConfigNode root, ConfigErrors& errors) {
  GatewayConfig cfg;
  if (!root.is_map()) {
    errors.add(root.mark(), "the configuration must be a map");
    return std::nullopt;
  }
  config::expect_keys(
      root,
      {"workers", "listeners", "limits", "shutdown_grace", "log_level", "log_format", "storage",
       "upstream_base_url", "settings", "chains", "routes"},
      errors);
  int64_t workers = 0;
  if (config::read_int(root, "workers", 0, 256, &workers, errors))
    cfg.workers = static_cast<int>(workers);

  const ConfigNode* listeners = root.get("listeners");
  if (!listeners || !listeners->is_sequence() || listeners->items().empty()) {
    errors.add(listeners ? listeners->mark() : root.mark(),
               "'listeners' must list at least one address");
  } else {
    for (const ConfigNode& l : listeners->items()) {
      config::expect_keys(l, {"address", "routes"}, errors);
      std::string address;
      config::read_string(l, "address", &address, errors);
      ListenerConfig lc;
      lc.mark = l.mark();
      lc.own_routes = l.get("routes") != nullptr;
      if (!server::parse_listen_address(address, &lc.host, &lc.port)) {
        errors.add(l.mark(), "listener address must be HOST:PORT, got '" + address + "'");
      }
      cfg.listeners.push_back(lc);
    }
  }
  if (const ConfigNode* limits = root.get("limits")) read_limits(*limits, cfg.limits, errors);
  int64_t grace = static_cast<int64_t>(cfg.shutdown_grace_ms);
  if (config::read_duration_ms(root, "shutdown_grace", &grace, errors))
    cfg.shutdown_grace_ms = grace;
  config::read_string(root, "log_level", &cfg.log_level, errors);
  config::read_string(root, "log_format", &cfg.log_format, errors);
  if (const ConfigNode* storage = root.get("storage")) {
    config::expect_keys(*storage, {"database_url", "master_key_file"}, errors);
    config::read_string(*storage, "database_url", &cfg.database_url, errors);
    config::read_string(*storage, "master_key_file", &cfg.master_key_file, errors);
  }
  if (cfg.database_url.empty()) {
    errors.add(root.mark(), "storage.database_url is required");
  } else if (auto checked = storage::check_database_url(cfg.database_url); !checked.ok()) {
    const ConfigNode* storage = root.get("storage");
    errors.add(storage->get("database_url")->mark(), "database_url: " + checked.error().message);
  }
  if (!root.get("chains")) errors.add(root.mark(), "'chains' is required");
  if (!root.get("routes")) errors.add(root.mark(), "'routes' is required");
  cfg.root = std::move(root);
  return cfg;
}

void apply_config_settings(const ConfigNode& root, SettingsSchema& schema, ConfigErrors& errors) {
  const ConfigNode* settings = root.get("settings");
  if (!settings || settings->is_null()) return;
  if (!settings->is_map()) {
    errors.add(settings->mark(), "'settings' must be a map of name: value");
    return;
  }
  for (const auto& [name, value] : settings->entries()) {
    const SettingSpec* spec = schema.find(name);
    if (!spec) {
      std::vector<std::string_view> names;
      for (const SettingSpec& known : schema.all()) names.push_back(known.name);
      errors.add(value.mark(),
                 "unknown setting '" + name + "'" + config::did_you_mean(name, names));
      continue;
    }
    std::string why;
    auto json = to_json(value, spec->type, &why);
    if (!json) {
      errors.add(value.mark(), name + ": " + why);
      continue;
    }
    auto r = schema.set_default(name, *json);
    if (!r.ok()) errors.add(value.mark(), r.error().message);
  }
}

namespace {

using ChainMap = std::map<std::string, std::shared_ptr<const ChainSpec>>;

// A route's body keywords: `stream_body: true|false` and `max_body_bytes: <size>` (its own
// limit, buffered or streamed). Errors point at the offending node.
void read_route_body(const ConfigNode& r, Route& route, ConfigErrors& errors) {
  config::read_bool(r, "stream_body", &route.stream_body, errors);
  int64_t limit = 0;
  if (r.get("max_body_bytes") && config::read_size(r, "max_body_bytes", &limit, errors)) {
    if (limit <= 0) {
      errors.add(r.get("max_body_bytes")->mark(), "'max_body_bytes' must be positive");
    } else {
      route.max_body_bytes = static_cast<size_t>(limit);
    }
  }
}

// Builds the route table of one `routes:` list (the top level's, or a listener's own) over the
// chains built from `chain_nodes`. Returns null when any route is wrong (reported in `errors`).
std::shared_ptr<const RouteTable> build_route_table(const ConfigNode* routes,
                                                    const Mark& missing_at,
                                                    const ConfigNode& chain_nodes,
                                                    const ChainMap& chains, ConfigErrors& errors) {
  size_t before = errors.size();
  auto table = std::make_shared<RouteTable>();
  if (!routes || !routes->is_sequence()) {
    errors.add(routes ? routes->mark() : missing_at, "'routes' must be a list");
    return nullptr;
  }
  std::map<std::string, Mark> seen;
  for (const ConfigNode& r : routes->items()) {
    config::expect_keys(
        r, {"prefix", "path", "pattern", "chain", "strip", "stream_body", "max_body_bytes"},
        errors);
    Route route;
    std::string prefix, path, pattern, chain, strip;
    config::read_string(r, "prefix", &prefix, errors);
    config::read_string(r, "path", &path, errors);
    config::read_string(r, "pattern", &pattern, errors);
    config::read_string(r, "chain", &chain, errors);
    config::read_string(r, "strip", &strip, errors);
    if (prefix.empty() + path.empty() + pattern.empty() != 2) {
      errors.add(r.mark(), "a route needs exactly one of 'prefix', 'path' or 'pattern'");
      continue;
    }
    route.kind = !path.empty()      ? RouteKind::kExact
                 : !pattern.empty() ? RouteKind::kPattern
                                    : RouteKind::kPrefix;
    route.path = !path.empty() ? path : !pattern.empty() ? pattern : prefix;
    if (route.kind == RouteKind::kPattern) {
      if (std::string why = check_route_pattern(pattern); !why.empty()) {
        errors.add(r.get("pattern")->mark(), why);
      }
    } else if (route.path[0] != '/') {
      errors.add(r.mark(), "route paths start with '/'");
    }
    if (!strip.empty() && route.path.rfind(strip, 0) != 0) {
      errors.add(r.get("strip")->mark(), "'strip' must be a leading part of the route's path");
    }
    route.strip = strip;
    read_route_body(r, route, errors);
    auto it = chains.find(chain);
    if (it == chains.end()) {
      if (!chain_nodes.get(chain)) {
        const ConfigNode* at = r.get("chain");
        std::vector<std::string_view> names;
        for (const auto& [known, node] : chain_nodes.entries()) names.push_back(known);
        errors.add(at ? at->mark() : r.mark(),
                   "unknown chain '" + chain + "'" + config::did_you_mean(chain, names));
      }
      continue;
    }
    const char* kind = route.kind == RouteKind::kExact     ? "="
                       : route.kind == RouteKind::kPattern ? "~"
                                                           : "";
    std::string key = kind + route.path;
    if (seen.count(key)) {
      errors.add(r.mark(), "route '" + route.path + "' is defined twice");
      continue;
    }
    seen[key] = r.mark();
    route.chain = it->second;
    table->add(std::move(route));
  }
  if (errors.size() != before) return nullptr;
  return table;
}

}  // namespace

std::shared_ptr<const RouteTable> build_routes(const ConfigNode& root, const Registry& registry,
                                               Services& services, ConfigErrors& errors) {
  return build_all_routes(root, registry, services, errors).main;
}

AllRoutes build_all_routes(const ConfigNode& root, const Registry& registry, Services& services,
                           ConfigErrors& errors) {
  size_t before = errors.size();
  AllRoutes out;
  ChainMap chains;
  const ConfigNode* chain_nodes = root.get("chains");
  if (!chain_nodes || !chain_nodes->is_map()) {
    errors.add(chain_nodes ? chain_nodes->mark() : root.mark(),
               "'chains' must be a map of name: chain");
    return out;
  }
  for (const auto& [name, node] : chain_nodes->entries()) {
    if (auto chain = build_chain(name, node, registry, services, errors)) chains[name] = chain;
  }
  auto main = build_route_table(root.get("routes"), root.mark(), *chain_nodes, chains, errors);
  if (const ConfigNode* listeners = root.get("listeners"); listeners && listeners->is_sequence()) {
    for (const ConfigNode& l : listeners->items()) {
      const ConfigNode* own = l.get("routes");
      out.per_listener.push_back(
          own ? build_route_table(own, l.mark(), *chain_nodes, chains, errors) : nullptr);
    }
  }
  if (errors.size() != before) return AllRoutes{};
  out.main = std::move(main);
  return out;
}

}  // namespace gemgate::conf
