#include "core/registry.h"

namespace gemgate {

Registry::Registry() : schema_(std::make_shared<SettingsSchema>()) {}

Result<void> Registry::add_filter(FilterType type) {
  if (type.name.empty() || !type.create)
    return Error::invalid("a filter type needs a name and create()");
  std::string name = type.name;
  if (!filters_.emplace(name, std::move(type)).second) {
    return Error::invalid("filter '" + name + "' is registered twice");
  }
  return {};
}

const FilterType* Registry::find_filter(std::string_view name) const {
  auto it = filters_.find(name);
  return it == filters_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::filter_names() const {
  std::vector<std::string> names;
  for (const auto& [name, type] : filters_) names.push_back(name);
  return names;
}

Result<void> Registry::add_error_format(std::string name, ErrorRenderer render) {
  if (!error_formats_.emplace(name, std::move(render)).second) {
    return Error::invalid("error format '" + name + "' is registered twice");
  }
  return {};
}

const ErrorRenderer* Registry::find_error_format(std::string_view name) const {
  auto it = error_formats_.find(name);
  return it == error_formats_.end() ? nullptr : &it->second;
}

Result<void> Registry::set_default_error_format(std::string_view name) {
  if (!find_error_format(name)) {
    return Error::invalid("error format '" + std::string(name) + "' is not registered");
  }
  default_error_format_ = std::string(name);
  return {};
}

void field::check_base_url(const ConfigNode& node, std::string_view key, std::string_view filter,
                           std::string* url, ConfigErrors& errors) {
  while (!url->empty() && url->back() == '/') url->pop_back();
  if (url->starts_with("http://") || url->starts_with("https://")) return;
  const ConfigNode* at = node.get(key);
  errors.add(at ? at->mark() : node.mark(), std::string(filter) + " '" + std::string(key) +
                                                "' must be an http:// or https:// URL, got '" +
                                                *url + "'");
}

std::shared_ptr<const ChainSpec> build_chain(const std::string& name, const ConfigNode& node,
                                             const Registry& registry, Services& services,
                                             ConfigErrors& errors) {
  size_t errors_before = errors.size();
  if (!node.is_map()) {
    errors.add(node.mark(), "chain '" + name + "' must be a map with 'filters'");
    return nullptr;
  }
  config::expect_keys(node, {"errors", "filters"}, errors);
  auto spec = std::make_shared<ChainSpec>();
  spec->name = name;

  std::string dialect = registry.default_error_format();
  config::read_string(node, "errors", &dialect, errors);
  const ConfigNode* given = node.get("errors");
  bool named = given && given->is_scalar();  // anything else was reported by read_string
  if (!named && dialect.empty()) {
    spec->render_error = &render_json_error;  // no dialect anywhere: core's neutral body
  } else if (const ErrorRenderer* r = registry.find_error_format(dialect)) {
    spec->render_error = *r;
  } else {
    const ConfigNode* at = node.get("errors");
    errors.add(at ? at->mark() : node.mark(), "unknown error format '" + dialect + "'");
  }

  const ConfigNode* filters = node.get("filters");
  if (!filters || !filters->is_sequence() || filters->items().empty()) {
    errors.add(filters ? filters->mark() : node.mark(),
               "chain '" + name + "' needs a non-empty 'filters' list");
    return nullptr;
  }
  FilterContext ctx{services, name};
  const Mark* terminal_at = nullptr;
  std::string terminal_name;
  for (const ConfigNode& item : filters->items()) {
    if (!item.is_map() || item.entries().size() != 1) {
      errors.add(item.mark(), "each filter is written as '- <name>: <config>'");
      continue;
    }
    const auto& [filter_name, filter_config] = item.entries().front();
    const FilterType* type = registry.find_filter(filter_name);
    if (!type) {
      std::string known;
      std::vector<std::string> names = registry.filter_names();
      for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
      std::vector<std::string_view> candidates(names.begin(), names.end());
      std::string hint = config::did_you_mean(filter_name, candidates);
      errors.add(item.mark(), "unknown filter '" + filter_name + "'" +
                                  (hint.empty() ? " (known: " + known + ")" : hint));
      continue;
    }
    if (terminal_at) {
      errors.add(item.mark(), "filter '" + filter_name + "' comes after the terminal filter '" +
                                  terminal_name + "', which must be last");
    }
    if (type->terminal) {
      terminal_at = &item.mark();
      terminal_name = filter_name;
    }
    std::optional<FilterFactory> factory = type->create(filter_config, ctx, errors);
    if (factory) {
      spec->filter_names.push_back(filter_name);
      spec->factories.push_back(std::move(*factory));
    }
  }
  if (!terminal_at) {
    errors.add(filters->mark(),
               "chain '" + name + "' has no terminal filter (one that answers, e.g. 'upstream')");
  }
  if (errors.size() != errors_before) return nullptr;
  return spec;
}

}  // namespace gemgate
