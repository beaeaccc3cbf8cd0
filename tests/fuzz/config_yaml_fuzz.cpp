// Fuzz target config_yaml: bytes as a gemgate.yaml → the start-up sequence of conf/main.cpp
// (load_yaml, parse_gateway_config, apply_config_settings, build_routes against a registry from
// register_everything and validation_services). The gateway must reject the input with
// positioned errors or accept it; nothing may throw out of these functions (no try/catch here on
// purpose: an escaping exception aborts and is reported as a crash).
//
// The environment is a fixed fake (never the process environment, so a run is reproducible):
// FUZZ_SET=value, FUZZ_EMPTY is set but empty, everything else is unset.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "conf/config.h"
#include "conf/gateway.h"
#include "conf/yaml_loader.h"
#include "core/log.h"
#include "core/registry.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

std::optional<std::string> fake_env(const std::string& name) {
  if (name == "FUZZ_SET") return std::string("value");
  if (name == "FUZZ_EMPTY") return std::string();
  return std::nullopt;
}

void check_errors(const gemgate::ConfigErrors& errors) {
  for (const std::string& line : errors.lines()) {
    if (line.rfind("fuzz.yaml:", 0) != 0) std::fprintf(stderr, "unpositioned: %s\n", line.c_str());
    FUZZ_CHECK(line.starts_with("fuzz.yaml:"));  // every problem is positioned
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gemgate::log::set_level(gemgate::log::Level::kError);  // filters log their setup at info
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace conf = gemgate::conf;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A fresh registry per input: apply_config_settings changes the schema's defaults, and state
  // carried between inputs would make crashes irreproducible.
  gemgate::Registry registry;
  FUZZ_CHECK(conf::register_everything(registry).ok());
  gemgate::ConfigErrors errors;

  auto root = conf::load_yaml(text, "fuzz.yaml", fake_env, errors);
  if (!root) {
    FUZZ_CHECK(!errors.empty());
    check_errors(errors);
    return 0;
  }
  std::optional<conf::GatewayConfig> config = conf::parse_gateway_config(std::move(*root), errors);
  if (!config) {
    FUZZ_CHECK(!errors.empty());
    check_errors(errors);
    return 0;
  }
  // A config with errors is returned too (so its chains are checked in the same run); one
  // without errors has a listener, which --listen rewrites.
  FUZZ_CHECK(!errors.empty() || !config->listeners.empty());
  conf::apply_config_settings(config->root, registry.settings_schema(), errors);
  gemgate::log::Level level;
  gemgate::log::parse_level(config->log_level, &level);
  gemgate::Services services = conf::validation_services();
  auto routes = conf::build_routes(config->root, registry, services, errors);
  check_errors(errors);
  if (errors.empty()) {
    FUZZ_CHECK(routes != nullptr);
    for (std::string_view path : {"/", "/v1beta/models", "/v1/chat/completions", "/admin/x"}) {
      const gemgate::Route* r = routes->match(path);
      if (!r) continue;
      if (r->kind == gemgate::RouteKind::kExact) FUZZ_CHECK(r->path == path);
      if (r->kind == gemgate::RouteKind::kPrefix) FUZZ_CHECK(path.starts_with(r->path));
      if (r->kind == gemgate::RouteKind::kPattern) {
        FUZZ_CHECK(gemgate::match_route_pattern(r->path, path));
      }
    }
  }
  return 0;
}
