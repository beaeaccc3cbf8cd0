#include "conf/config_load.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/server/server.h"

namespace gemgate::conf {

Result<void> read_config_text(const ConfigSource& source, std::string* text, std::string* file) {
  if (source.path.empty()) {
    *text = kDefaultConfigYaml;
    *file = "<built-in gemgate.yaml>";
    return {};
  }
  std::ifstream in(source.path, std::ios::binary);
  if (!in) return Error::invalid("cannot read " + source.path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  *file = source.path;
  return {};
}

std::optional<GatewayConfig> read_config(const ConfigSource& source, const EnvLookup& env,
                                         SettingsSchema& schema, log::Level* level,
                                         ConfigErrors& errors) {
  std::string text, file;
  if (auto r = read_config_text(source, &text, &file); !r.ok()) {
    errors.add(Mark{source.path, 0, 0}, r.error().message);
    return std::nullopt;
  }
  auto root = load_yaml(text, file, env, errors);
  if (!root) return std::nullopt;
  auto config = parse_gateway_config(std::move(*root), errors);
  if (!config) return std::nullopt;
  apply_config_settings(config->root, schema, errors);
  if (!source.listen.empty() && !config->listeners.empty()) {
    ListenerConfig& first = config->listeners.front();
    if (!server::parse_listen_address(source.listen, &first.host, &first.port)) {
      errors.add(Mark{"--listen", 0, 0}, "--listen needs HOST:PORT, got '" + source.listen + "'");
    }
  }
  if (!log::parse_level(config->log_level, level)) {
    const ConfigNode* at = config->root.get("log_level");
    errors.add(at ? at->mark() : Mark{file, 0, 0}, "log_level must be debug, info, warn or error");
  }
  if (log::Format format; !log::parse_format(config->log_format, &format)) {
    const ConfigNode* at = config->root.get("log_format");
    errors.add(at ? at->mark() : Mark{file, 0, 0}, "log_format must be text or json");
  }
  return config;
}

}  // namespace gemgate::conf
