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

class Registry {
 public:
  Registry();

  // Adds a filter type; a duplicate name is an error.
  Result<void> add_filter(FilterType type);
  const FilterType* find_filter(std::string_view name) const;
  std::vector<std::string> filter_names() const;

  // Adds an error dialect (the built-in "google" exists from the start).
  Result<void> add_error_format(std::string name, ErrorRenderer render);
  const ErrorRenderer* find_error_format(std::string_view name) const;

  // Dynamic settings declared by the registered filters (and other owners).
  SettingsSchema& settings_schema() { return *schema_; }
  std::shared_ptr<SettingsSchema> shared_settings_schema() { return schema_; }

 private:
  std::map<std::string, FilterType, std::less<>> filters_;
  std::map<std::string, ErrorRenderer, std::less<>> error_formats_;
  std::shared_ptr<SettingsSchema> schema_;
};

// Builds chain `name` from its config node:
//   { errors: <dialect>, filters: [ {<filter>: <config>}, ... ] }
// Checks: known filter names, exactly one terminal filter and it is last, each filter's typed
// config. Reports every problem with its position and returns nullptr when there was any.
std::shared_ptr<const ChainSpec> build_chain(const std::string& name, const ConfigNode& node,
                                             const Registry& registry, Services& services,
                                             ConfigErrors& errors);

}  // namespace gemgate
