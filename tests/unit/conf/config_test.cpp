// The top level of gemgate.yaml, the settings: section, chains and routes — each problem
// reported at its node — and the built-in configuration, which must load with no error.
#include "conf/config.h"

#include <doctest/doctest.h>

#include "conf/gateway.h"
#include "conf/yaml_loader.h"
#include "tests/unit/support/printers.h"

using namespace gemgate;
using namespace gemgate::conf;

namespace {

ConfigNode yaml(const std::string& text) {
  ConfigErrors e;
  auto root = load_yaml(
      text, "g.yaml", [](const std::string&) { return std::nullopt; }, e);
  INFO((e.empty() ? std::string() : e.lines()[0]));
  REQUIRE(e.empty());
  REQUIRE(root);
  return *root;
}

const std::string kMinimal =
    "listeners:\n"
    "  - address: 127.0.0.1:8080\n"
    "storage:\n"
    "  database_url: ':memory:'\n"
    "chains: {}\n"
    "routes: []\n";

// A registry with everything gemgate ships.
struct Everything {
  Everything() { REQUIRE(register_everything(registry).ok()); }
  Registry registry;
  Services services = validation_services();
};

}  // namespace

TEST_CASE("a minimal config: defaults for everything not given") {
  ConfigErrors e;
  auto cfg = parse_gateway_config(yaml(kMinimal), e);
  CHECK(e.lines() == std::vector<std::string>{});
  REQUIRE(cfg);
  CHECK(cfg->workers == 0);
  REQUIRE(cfg->listeners.size() == 1);
  CHECK(cfg->listeners[0].host == "127.0.0.1");
  CHECK(cfg->listeners[0].port == 8080);
  CHECK(cfg->limits.max_body_bytes == 16u * 1024 * 1024);
  CHECK(cfg->shutdown_grace_ms == 15'000);
  CHECK(cfg->database_url == ":memory:");
}

TEST_CASE("limits are read with their units") {
  ConfigErrors e;
  auto cfg = parse_gateway_config(
      yaml(kMinimal + "limits:\n  max_body_bytes: 1MiB\n  head_timeout: 2s\n  max_headers: 50\n"
                      "  write_buffer_high: 64KiB\n  write_buffer_low: 16KiB\nworkers: 4\n"
                      "shutdown_grace: 500ms\n"),
      e);
  CHECK(e.lines() == std::vector<std::string>{});
  REQUIRE(cfg);
  CHECK(cfg->limits.max_body_bytes == 1024 * 1024);
  CHECK(cfg->limits.head_timeout_ms == 2000);
  CHECK(cfg->limits.max_headers == 50);
  CHECK(cfg->limits.write_high_watermark == 64 * 1024);
  CHECK(cfg->workers == 4);
  CHECK(cfg->shutdown_grace_ms == 500);
}

TEST_CASE("top-level errors, each at its node") {
  ConfigErrors e;
  auto cfg = parse_gateway_config(yaml("workers: 1000\n"
                                       "listners: []\n"
                                       "listeners:\n"
                                       "  - address: nowhere\n"
                                       "limits:\n"
                                       "  max_body_bytes: huge\n"
                                       "  head_timeout: 0s\n"
                                       "  bogus: 1\n"
                                       "  write_buffer_low: 1MiB\n"
                                       "storage: {}\n"),
                                  e);
  CHECK(cfg);  // returned with its errors, so the chains of the same file can be checked too
  CHECK(e.lines() ==
        std::vector<std::string>{
            "g.yaml:2:11: unknown key 'listners' (did you mean 'listeners'?)",
            "g.yaml:1:10: 'workers' must be between 0 and 256, got 1000",
            "g.yaml:4:5: listener address must be HOST:PORT, got 'nowhere'",
            "g.yaml:8:10: unknown key 'bogus' (expected one of: max_url_bytes, max_header_bytes, "
            "max_headers, max_body_bytes, head_timeout, body_timeout, keepalive_timeout, "
            "write_timeout, max_connections, max_requests_per_connection, write_buffer_high, "
            "write_buffer_low, min_body_rate, body_rate_window, request_timeout, "
            "max_buffered_body_bytes)",
            "g.yaml:6:19: 'max_body_bytes' must be a size like 32KiB or 16MiB; got 'huge'",
            "g.yaml:7:17: 'head_timeout' must be positive",
            "g.yaml:6:3: 'write_buffer_low' must be below 'write_buffer_high'",
            "g.yaml:1:1: storage.database_url is required",
            "g.yaml:1:1: 'chains' is required",
            "g.yaml:1:1: 'routes' is required",
        });
}

TEST_CASE("listeners must be a non-empty list; the root must be a map") {
  ConfigErrors e;
  CHECK(parse_gateway_config(
      yaml("listeners: []\nstorage: {database_url: x}\nchains: {}\nroutes: []\n"), e));
  CHECK(e.lines().at(0) == "g.yaml:1:12: 'listeners' must list at least one address");
  ConfigErrors root_errors;
  CHECK_FALSE(parse_gateway_config(yaml("- a\n"), root_errors));
  CHECK(root_errors.lines().at(0) == "g.yaml:1:1: the configuration must be a map");
}

TEST_CASE("settings: become the schema's defaults, with YAML spellings converted") {
  Everything all;
  ConfigErrors e;
  apply_config_settings(yaml("settings:\n  max_retries: 5\n  health_check_model: gemini-2.5-pro\n"
                             "  upstream_headers: {x-goog-user-project: p1}\n"),
                        all.registry.settings_schema(), e);
  CHECK(e.lines() == std::vector<std::string>{});
  Settings snap(all.registry.shared_settings_schema(), {});
  CHECK(snap.get_int("max_retries") == 5);
  CHECK(snap.get_string("health_check_model") == "gemini-2.5-pro");
  REQUIRE(snap.get_json("upstream_headers"));
  CHECK(std::string((*snap.get_json("upstream_headers"))["x-goog-user-project"].GetString()) ==
        "p1");
}

TEST_CASE("settings: unknown name, wrong type, out of range — each at its value") {
  Everything all;
  ConfigErrors e;
  apply_config_settings(yaml("settings:\n"
                             "  max_retrys: 5\n"
                             "  max_retries: lots\n"
                             "  max_failures: 1000\n"
                             "  health_check_model: [a]\n"
                             "  health_check_model_x: 1\n"),
                        all.registry.settings_schema(), e);
  CHECK(e.lines() == std::vector<std::string>{
                         "g.yaml:2:15: unknown setting 'max_retrys' (did you mean 'max_retries'?)",
                         "g.yaml:3:16: max_retries: must be a whole number",
                         "g.yaml:4:17: max_failures: must be between 0 and 100",
                         "g.yaml:5:23: health_check_model: must be a single value",
                         "g.yaml:6:25: unknown setting 'health_check_model_x' (did you mean "
                         "'health_check_model'?)",
                     });
  Settings snap(all.registry.shared_settings_schema(), {});
  CHECK(snap.get_int("max_retries") == 3);  // a refused value leaves the default alone
  ConfigErrors not_map;
  apply_config_settings(yaml("settings: [1]\n"), all.registry.settings_schema(), not_map);
  CHECK(not_map.lines().at(0) == "g.yaml:1:11: 'settings' must be a map of name: value");
}

TEST_CASE("routes: longest prefix, exact path, strip; each chain built once") {
  Everything all;
  ConfigErrors e;
  ConfigNode root = yaml(
      "chains:\n"
      "  a: {filters: [{healthz: {}}]}\n"
      "  b: {filters: [{healthz: {}}]}\n"
      "routes:\n"
      "  - {prefix: /v1beta/, chain: a}\n"
      "  - {prefix: /v1beta/models/, chain: b}\n"
      "  - {prefix: /gemini/v1beta/, chain: a, strip: /gemini}\n"
      "  - {path: /v1beta/models/special, chain: a}\n");
  auto table = build_routes(root, all.registry, all.services, e);
  CHECK(e.lines() == std::vector<std::string>{});
  REQUIRE(table);
  CHECK(table->match("/v1beta/models/x:generateContent")->chain->name == "b");
  CHECK(table->match("/v1beta/files")->chain->name == "a");
  CHECK(table->match("/v1beta/models/special")->kind == RouteKind::kExact);
  CHECK(table->match("/gemini/v1beta/models")->strip == "/gemini");
  CHECK(table->match("/v2/") == nullptr);
  CHECK(table->match("/v1beta/files")->chain == table->match("/gemini/v1beta/x")->chain);
}

TEST_CASE("routes: stream_body and the route's own max_body_bytes; errors at their node") {
  Everything all;
  ConfigErrors e;
  ConfigNode root = yaml(
      "chains:\n"
      "  a: {filters: [{healthz: {}}]}\n"
      "routes:\n"
      "  - {prefix: /upload/, chain: a, stream_body: true, max_body_bytes: 2GiB}\n"
      "  - {prefix: /big/, chain: a, max_body_bytes: 64MiB}\n"
      "  - {prefix: /v1beta/, chain: a}\n");
  auto table = build_routes(root, all.registry, all.services, e);
  CHECK(e.lines() == std::vector<std::string>{});
  REQUIRE(table);
  CHECK(table->match("/upload/v1beta/files")->stream_body);
  CHECK(table->match("/upload/v1beta/files")->max_body_bytes == 2ull << 30);
  CHECK_FALSE(table->match("/big/x")->stream_body);  // a limit alone: still buffered
  CHECK(table->match("/big/x")->max_body_bytes == 64u << 20);
  CHECK_FALSE(table->match("/v1beta/models")->stream_body);
  CHECK(table->match("/v1beta/models")->max_body_bytes == 0);  // the server's limit

  ConfigErrors bad;
  ConfigNode wrong = yaml(
      "chains:\n"
      "  a: {filters: [{healthz: {}}]}\n"
      "routes:\n"
      "  - {prefix: /u/, chain: a, stream_body: maybe}\n"
      "  - {prefix: /v/, chain: a, max_body_bytes: lots}\n"
      "  - {prefix: /w/, chain: a, max_body_bytes: 0}\n"
      "  - {prefix: /x/, chain: a, stream_bodies: true}\n");
  CHECK(build_routes(wrong, all.registry, all.services, bad) == nullptr);
  CHECK(bad.lines() ==
        std::vector<std::string>{
            "g.yaml:4:42: 'stream_body' must be true or false, got 'maybe'",
            "g.yaml:5:45: 'max_body_bytes' must be a size like 32KiB or 16MiB; got 'lots'",
            "g.yaml:6:45: 'max_body_bytes' must be positive",
            "g.yaml:7:44: unknown key 'stream_bodies' (did you mean 'stream_body'?)",
        });
}

TEST_CASE("a listener with routes of its own gets its own table over the same chains") {
  Everything all;
  ConfigErrors e;
  ConfigNode root = yaml(
      "listeners:\n"
      "  - address: 0.0.0.0:8080\n"
      "  - address: 127.0.0.1:9464\n"
      "    routes: [{path: /metrics, chain: b}]\n"
      "chains:\n"
      "  a: {filters: [{healthz: {}}]}\n"
      "  b: {filters: [{healthz: {}}]}\n"
      "routes:\n"
      "  - {prefix: /v1beta/, chain: a}\n");
  AllRoutes routes = build_all_routes(root, all.registry, all.services, e);
  CHECK(e.lines() == std::vector<std::string>{});
  REQUIRE(routes.main);
  REQUIRE(routes.per_listener.size() == 2);
  CHECK(routes.per_listener[0] == nullptr);  // the top-level routes
  REQUIRE(routes.per_listener[1]);
  CHECK(routes.per_listener[1]->match("/metrics")->chain->name == "b");
  CHECK(routes.per_listener[1]->match("/v1beta/models") == nullptr);
  CHECK(routes.main->match("/metrics") == nullptr);

  ConfigErrors bad;
  ConfigNode wrong = yaml(
      "listeners:\n"
      "  - address: 127.0.0.1:9464\n"
      "    routes: [{path: /metrics, chain: nope}]\n"
      "chains:\n"
      "  a: {filters: [{healthz: {}}]}\n"
      "routes: []\n");
  CHECK(build_all_routes(wrong, all.registry, all.services, bad).main == nullptr);
  CHECK(bad.lines() == std::vector<std::string>{"g.yaml:3:38: unknown chain 'nope'"});
}

TEST_CASE("route errors: unknown chain, duplicate, both or neither of path/prefix, bad strip") {
  Everything all;
  ConfigErrors e;
  ConfigNode root = yaml(
      "chains:\n"
      "  a: {filters: [{healthz: {}}]}\n"
      "routes:\n"
      "  - {prefix: /x/, chain: nope}\n"
      "  - {prefix: /y/, chain: a}\n"
      "  - {prefix: /y/, chain: a}\n"
      "  - {prefix: /z/, path: /z, chain: a}\n"
      "  - {chain: a}\n"
      "  - {prefix: /w/, chain: a, strip: /q}\n"
      "  - {path: /y/, chain: a}\n"
      "  - {prefix: nослэш, chain: a}\n");
  CHECK(build_routes(root, all.registry, all.services, e) == nullptr);
  CHECK(e.lines() == std::vector<std::string>{
                         "g.yaml:4:26: unknown chain 'nope'",
                         "g.yaml:6:5: route '/y/' is defined twice",
                         "g.yaml:7:5: a route needs exactly one of 'prefix', 'path' or 'pattern'",
                         "g.yaml:8:5: a route needs exactly one of 'prefix', 'path' or 'pattern'",
                         "g.yaml:9:36: 'strip' must be a leading part of the route's path",
                         "g.yaml:11:5: route paths start with '/'",
                     });
}

TEST_CASE("chain errors through YAML point at the right node") {
  Everything all;
  ConfigErrors e;
  ConfigNode root = yaml(
      "chains:\n"
      "  broken:\n"
      "    filters:\n"
      "      - log: {}\n"
      "      - autth: {}\n"
      "      - retry: {tries: 3}\n"
      "      - upstream: {base_url: 'http://u.test'}\n"
      "      - keys: {}\n"
      "  headless:\n"
      "    filters:\n"
      "      - log: {access_log: maybe}\n"
      "routes: []\n");
  CHECK(build_routes(root, all.registry, all.services, e) == nullptr);
  REQUIRE(e.size() == 5);
  CHECK(e.lines()[0].starts_with("g.yaml:5:9: unknown filter 'autth' (did you mean 'auth'?"));
  CHECK(e.lines()[1] == "g.yaml:6:24: unknown key 'tries' (nothing is configurable here)");
  CHECK(e.lines()[2] ==
        "g.yaml:8:9: filter 'keys' comes after the terminal filter 'upstream', which must be last");
  CHECK(e.lines()[3] == "g.yaml:11:27: 'access_log' must be true or false, got 'maybe'");
  CHECK(e.lines()[4].starts_with("g.yaml:11:7: chain 'headless' has no terminal filter"));
}

TEST_CASE("the built-in configuration loads and builds with no error") {
  Everything all;
  ConfigErrors e;
  auto root = load_yaml(
      kDefaultConfigYaml, "<built-in>", [](const std::string&) { return std::nullopt; }, e);
  REQUIRE(root);
  auto cfg = parse_gateway_config(*root, e);
  REQUIRE(cfg);
  apply_config_settings(cfg->root, all.registry.settings_schema(), e);
  auto routes = build_routes(cfg->root, all.registry, all.services, e);
  CHECK(e.lines() == std::vector<std::string>{});
  REQUIRE(routes);
  CHECK(cfg->listeners.at(0).port == 8080);
  CHECK(cfg->database_url == "file:./data/gemgate.db");
  CHECK(cfg->root.get("upstream_base_url")->text() == "https://generativelanguage.googleapis.com");
  CHECK(routes->match("/v1beta/models/gemini-2.5-flash:generateContent")->chain->name == "gemini");
  const Route* stripped = routes->match("/gemini/v1beta/models");
  REQUIRE(stripped);
  CHECK(stripped->chain->name == "gemini");
  CHECK(stripped->strip == "/gemini");
  CHECK(routes->match("/healthz")->chain->name == "health");
  CHECK(routes->match("/api/cron/health-check")->chain->name == "cron");
  CHECK(routes->match("/healthz/x") == nullptr);
  const ChainSpec& gemini = *routes->match("/v1beta/models")->chain;
  CHECK(gemini.filter_names.front() == "log");
  CHECK(gemini.filter_names.back() == "upstream");
  Settings snap(all.registry.shared_settings_schema(), {});
  CHECK(snap.get_int("max_retries") == 3);
  CHECK(snap.get_int("cooldown_max_s") == 3600);
}

TEST_CASE("the built-in configuration follows the environment") {
  ConfigErrors e;
  std::map<std::string, std::string> env{{"GOOGLE_API_HOST", "http://127.0.0.1:9090"},
                                         {"DATABASE_URL", ":memory:"}};
  auto root = load_yaml(
      kDefaultConfigYaml, "<built-in>",
      [&env](const std::string& n) -> std::optional<std::string> {
        auto it = env.find(n);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
      },
      e);
  REQUIRE(root);
  auto cfg = parse_gateway_config(*root, e);
  REQUIRE(cfg);
  CHECK(cfg->database_url == ":memory:");
  CHECK(cfg->root.get("upstream_base_url")->text() == "http://127.0.0.1:9090");
}

TEST_CASE("a DATABASE_URL that does not parse is a config error at its node, URL not shown") {
  ConfigErrors e;
  auto root = load_yaml(
      "listeners: [{address: '127.0.0.1:0'}]\nstorage: {database_url: '${DATABASE_URL}'}\n"
      "chains: {}\nroutes: []\n",
      "g.yaml",
      [](const std::string& name) -> std::optional<std::string> {
        // libpq knows no "sslmod" parameter.
        if (name == "DATABASE_URL") return "postgres://gg:pw-0123456789@db/gemgate?sslmod=require";
        return std::nullopt;
      },
      e);
  REQUIRE(root);
  parse_gateway_config(std::move(*root), e);
  REQUIRE(e.size() == 1);
  const std::string line = e.lines()[0];
  CHECK(line.starts_with("g.yaml:2:"));
  CHECK(line.find("not a valid PostgreSQL connection string") != std::string::npos);
  CHECK(line.find("environment variable DATABASE_URL") != std::string::npos);
  CHECK(line.find("pw-0123456789") == std::string::npos);
}

TEST_CASE("routes: a pattern route is read and checked") {
  ConfigErrors e;
  Registry registry;
  REQUIRE(register_everything(registry).ok());
  Services services = validation_services();
  auto root = yaml(
      "chains:\n  health: {filters: [{healthz: {}}]}\n"
      "routes:\n"
      "  - {prefix: /v1/, chain: health}\n"
      "  - {pattern: '/v1/models/{model}:{method}', chain: health}\n"
      "  - {pattern: '/v1/{a}{b}', chain: health}\n"
      "  - {pattern: '/v1/x', prefix: /v1/x, chain: health}\n"
      "  - {prefix: /z/, chain: helth}\n");
  auto table = build_routes(root, registry, services, e);
  CHECK(table == nullptr);
  CHECK(e.lines() == std::vector<std::string>{
                         "g.yaml:6:15: two placeholders in a row: nothing tells where one ends",
                         "g.yaml:7:5: a route needs exactly one of 'prefix', 'path' or 'pattern'",
                         "g.yaml:8:26: unknown chain 'helth' (did you mean 'health'?)",
                     });
  ConfigErrors ok_errors;
  auto good = yaml(
      "chains:\n  health: {filters: [{healthz: {}}]}\n"
      "routes:\n"
      "  - {prefix: /v1/, chain: health}\n"
      "  - {pattern: '/v1/models/{model}:{method}', chain: health}\n");
  auto routes = build_routes(good, registry, services, ok_errors);
  REQUIRE(routes);
  CHECK(routes->match("/v1/models/m:generateContent")->kind == RouteKind::kPattern);
  CHECK(routes->match("/v1/models/m")->kind == RouteKind::kPrefix);
}
