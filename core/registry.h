// Registry: the filters and error dialects gemgate can compose, by name. Filled explicitly
// (register_builtin_filters(Registry&) in filters/, not static initialisers) so tests and
// embedders build exactly the registry they want. Also builds validated chains from config.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chain.h"
#include "core/config_node.h"
#include "core/result.h"
#include "core/services.h"
#include "core/settings.h"

namespace gemgate {

// What a filter factory may use while it validates its config and captures what it needs.
struct FilterContext {
  Services& services;      // shared services put there by the composition root
  std::string chain_name;  // the chain being built, for messages
};

struct FilterType {
  std::string name;
  std::string summary;    // one line, shown in docs and errors
  bool terminal = false;  // produces responses; must be last in its chain
  // Validates `config` (null when the chain gives none) and returns a factory, or reports
  // positioned errors and returns nullopt.
  std::function<std::optional<FilterFactory>(const ConfigNode& config, FilterContext& ctx,
                                             ConfigErrors& errors)>
      create;
};

// ---- Typed filter definitions -------------------------------------------------------------
// A filter folder defines its filter as one FilterDef<Config>: the config struct, a table of its
// YAML keys (each named once, with its reader and its check), and build(), which turns the read
// config into the factory. The unknown-key check is derived from the table, so a key cannot be
// accepted without being read, nor read without being accepted.

// One YAML key of a filter's config.
template <typename Config>
struct ConfigField {
  std::string_view key;
  // Reads `key` of the map `node` into `config`, reporting positioned errors; a key that is
  // absent leaves `config` untouched. Called only when the filter's config is a map.
  std::function<void(const ConfigNode& node, std::string_view key, Config& config,
                     ConfigErrors& errors)>
      read;
  // Optional; runs once every field was read, also when the key is absent or the config is no
  // map (required values, normalising). `filter` is the filter's name, for messages.
  std::function<void(const ConfigNode& node, std::string_view key, std::string_view filter,
                     Config& config, ConfigErrors& errors)>
      check{};  // (not "= nullptr": GCC 12 crashes on that initializer in a template)
};

// For filters that take no config: any key is reported as unknown.
struct NoConfig {};

// What build() gets: the read config (frozen), the filter's config node (for the position of
// wiring errors), the chain's context (services) and the error list.
template <typename Config>
struct FilterBuild {
  std::shared_ptr<const Config> config;
  const ConfigNode& node;
  FilterContext& ctx;
  ConfigErrors& errors;

  // Returns service T, or reports `missing` at the config node and returns null.
  template <typename T>
  std::shared_ptr<T> require(std::string missing) const {
    auto service = ctx.services.get<T>();
    if (!service) errors.add(node.mark(), std::move(missing));
    return service;
  }
};

template <typename Config>
struct FilterDef {
  std::string name;
  std::string summary{};  // as FilterType::summary
  bool terminal = false;  // as FilterType::terminal
  std::vector<ConfigField<Config>> fields = {};
  // Makes the factory. Called also when a field reported an error (build_chain then discards
  // the chain), so wiring problems are reported in the same run.
  std::function<std::optional<FilterFactory>(const FilterBuild<Config>& b)> build;
};

// The registry entry of `def`: create() checks the keys against the table, reads every field
// in table order, runs every check in table order, then calls build().
template <typename Config>
FilterType typed_filter_type(FilterDef<Config> def) {
  auto d = std::make_shared<const FilterDef<Config>>(std::move(def));
  FilterType type;
  type.name = d->name;
  type.summary = d->summary;
  type.terminal = d->terminal;
  if (!d->build) return type;  // no create(): add_filter refuses it
  type.create = [d](const ConfigNode& node, FilterContext& ctx,
                    ConfigErrors& errors) -> std::optional<FilterFactory> {
    std::vector<std::string_view> keys;
    for (const ConfigField<Config>& f : d->fields) keys.push_back(f.key);
    config::expect_keys(node, keys, errors);
    auto config = std::make_shared<Config>();
    if (node.is_map()) {
      for (const ConfigField<Config>& f : d->fields) f.read(node, f.key, *config, errors);
    }
    for (const ConfigField<Config>& f : d->fields) {
      if (f.check) f.check(node, f.key, d->name, *config, errors);
    }
    return d->build(FilterBuild<Config>{std::move(config), node, ctx, errors});
  };
  return type;
}

// Field makers for the common value kinds; each reads with the config:: reader of that kind.
namespace field {

template <typename Config>
ConfigField<Config> flag(std::string_view key, bool Config::*member) {
  return {key, [member](const ConfigNode& n, std::string_view k, Config& c, ConfigErrors& e) {
            config::read_bool(n, k, &(c.*member), e);
          }};
}

template <typename Config>
ConfigField<Config> text(std::string_view key, std::string Config::*member) {
  return {key, [member](const ConfigNode& n, std::string_view k, Config& c, ConfigErrors& e) {
            config::read_string(n, k, &(c.*member), e);
          }};
}

template <typename Config>
ConfigField<Config> size(std::string_view key, int64_t Config::*member) {
  return {key, [member](const ConfigNode& n, std::string_view k, Config& c, ConfigErrors& e) {
            config::read_size(n, k, &(c.*member), e);
          }};
}

// Drops trailing '/' from *url and reports, at the key (or at `node` when the key is absent),
// anything that is not an http:// or https:// URL: "<filter> '<key>' must be an http:// or
// https:// URL, got '<url>'". The one check of every upstream base URL.
void check_base_url(const ConfigNode& node, std::string_view key, std::string_view filter,
                    std::string* url, ConfigErrors& errors);

// A required http(s) base URL (e.g. an upstream API host), without trailing '/'.
template <typename Config>
ConfigField<Config> base_url(std::string_view key, std::string Config::*member) {
  ConfigField<Config> f = text(key, member);
  f.check = [member](const ConfigNode& n, std::string_view k, std::string_view filter, Config& c,
                     ConfigErrors& e) { check_base_url(n, k, filter, &(c.*member), e); };
  return f;
}

}  // namespace field

class Registry {
 public:
  Registry();

  // Adds a filter type; a duplicate name is an error.
  Result<void> add_filter(FilterType type);
  // Adds typed_filter_type(def).
  template <typename Config>
  Result<void> add_filter(FilterDef<Config> def) {
    return add_filter(typed_filter_type(std::move(def)));
  }
  const FilterType* find_filter(std::string_view name) const;
  std::vector<std::string> filter_names() const;

  // Adds an error dialect (the body shape one API's clients parse) under `name`, for chains to
  // name in `errors:`. A fresh registry has none; a duplicate name is an error.
  Result<void> add_error_format(std::string name, ErrorRenderer render);
  const ErrorRenderer* find_error_format(std::string_view name) const;
  // Makes the registered dialect `name` the one of chains that name none; an unknown name is an
  // error. Without a default such chains render with core's render_json_error.
  Result<void> set_default_error_format(std::string_view name);
  const std::string& default_error_format() const { return default_error_format_; }

  // Dynamic settings declared by the registered filters (and other owners).
  SettingsSchema& settings_schema() { return *schema_; }
  std::shared_ptr<SettingsSchema> shared_settings_schema() { return schema_; }

 private:
  std::map<std::string, FilterType, std::less<>> filters_;
  std::map<std::string, ErrorRenderer, std::less<>> error_formats_;
  std::string default_error_format_;  // "" = render_json_error
  std::shared_ptr<SettingsSchema> schema_;
};

// Builds chain `name` from its config node:
//   { errors: <dialect>, filters: [ {<filter>: <config>}, ... ] }
// `errors` defaults to the registry's default dialect (or core's render_json_error).
// Checks: known filter names, exactly one terminal filter and it is last, each filter's typed
// config. Reports every problem with its position and returns nullptr when there was any.
std::shared_ptr<const ChainSpec> build_chain(const std::string& name, const ConfigNode& node,
                                             const Registry& registry, Services& services,
                                             ConfigErrors& errors);

}  // namespace gemgate
