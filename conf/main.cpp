// gemgate's entry point: command line, configuration, and the Gateway's life.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "conf/config.h"
#include "conf/gateway.h"
#include "conf/yaml_loader.h"
#include "core/log.h"
#include "core/server/server.h"
#include "transports/curl_global.h"

#ifndef GEMGATE_VERSION
#define GEMGATE_VERSION "0.0.0"
#endif

namespace {

constexpr const char* kUsage =
    R"(Usage: gemgate [--config FILE] [--listen HOST:PORT] [--check-config] [--version] [--help]

An AI gateway in front of Google's Gemini API: a pool of API keys with failover and cooldowns,
native Gemini endpoints, and a live admin API.

Options:
  --config FILE      read the configuration from FILE (default: the built-in conf/gemgate.yaml)
  --listen HOST:PORT replace the address of the first listener (e.g. 127.0.0.1:8080)
  --check-config     validate the configuration, print every error as file:line:column, and exit
  --version          print the version and exit
  --help             print this help and exit

Environment:
  DATABASE_URL       storage (default file:./data/gemgate.db)
  GOOGLE_API_HOST    upstream (default https://generativelanguage.googleapis.com)
  API_KEYS           Gemini keys added to storage at start when missing (comma/space/newline separated)
  ALLOWED_TOKENS     client tokens added to storage at start when missing
  CRON_SECRET        bearer secret of GET /api/cron/health-check (unset = endpoint refuses all)
  GEMGATE_LOG_LEVEL  debug, info, warn or error
)";

struct Options {
  std::string config_path;
  std::string listen;
  bool check_only = false;
};

int fail_usage(const std::string& message) {
  std::fprintf(stderr, "gemgate: %s\n\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gemgate;
  // A write to a socket the peer has reset raises SIGPIPE, whose default action ends the
  // process (exit 141): libuv writes client sockets with plain write(2), without MSG_NOSIGNAL,
  // so any client that resets while an answer is going out (a closed stream, a pipelined burst
  // ended with RST) would kill every other client's requests with it. Ignored process-wide, the
  // write fails with EPIPE instead and only that connection is closed. Set before any thread
  // starts, so every thread inherits it.
  std::signal(SIGPIPE, SIG_IGN);
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("gemgate %s (%s)\n", GEMGATE_VERSION, transport::curl_description().c_str());
      return 0;
    } else if (a == "--check-config") {
      opt.check_only = true;
    } else if (a == "--config" || a == "--listen") {
      if (i + 1 >= argc) return fail_usage(a + " needs a value");
      (a == "--config" ? opt.config_path : opt.listen) = argv[++i];
    } else if (a.starts_with("--config=")) {
      opt.config_path = a.substr(9);
    } else if (a.starts_with("--listen=")) {
      opt.listen = a.substr(9);
    } else {
      return fail_usage("unknown argument '" + a + "'");
    }
  }

  std::string text = conf::kDefaultConfigYaml;
  std::string file = "<built-in gemgate.yaml>";
  if (!opt.config_path.empty()) {
    std::ifstream in(opt.config_path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "gemgate: cannot read %s: %s\n", opt.config_path.c_str(),
                   std::strerror(errno));
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    file = opt.config_path;
  }

  ConfigErrors errors;
  Registry registry;
  if (auto r = conf::register_everything(registry); !r.ok()) {
    std::fprintf(stderr, "gemgate: internal error: %s\n", r.error().message.c_str());
    return 1;
  }
  auto root = conf::load_yaml(text, file, conf::process_env, errors);
  std::optional<conf::GatewayConfig> config;
  if (root) config = conf::parse_gateway_config(std::move(*root), errors);
  if (config) {
    conf::apply_config_settings(config->root, registry.settings_schema(), errors);
    if (!opt.listen.empty()) {
      conf::ListenerConfig& first = config->listeners.front();
      if (!server::parse_listen_address(opt.listen, &first.host, &first.port)) {
        return fail_usage("--listen needs HOST:PORT, got '" + opt.listen + "'");
      }
    }
    log::Level level;
    if (!log::parse_level(config->log_level, &level)) {
      errors.add(
          config->root.get("log_level") ? config->root.get("log_level")->mark() : Mark{file, 0, 0},
          "log_level must be debug, info, warn or error");
    } else {
      log::set_level(level);
    }
    log::Format format;
    if (!log::parse_format(config->log_format, &format)) {
      const ConfigNode* at = config->root.get("log_format");
      errors.add(at ? at->mark() : Mark{file, 0, 0}, "log_format must be text or json");
    } else {
      log::set_format(format);
    }
    // Chains are validated against empty services here; the real ones are built at start.
    Services services = conf::validation_services();
    conf::build_all_routes(config->root, registry, services, errors);
  }
  if (!errors.empty()) {
    for (const std::string& line : errors.lines()) std::fprintf(stderr, "%s\n", line.c_str());
    std::fprintf(stderr, "gemgate: %zu configuration error(s)\n", errors.size());
    return 1;
  }
  if (opt.check_only) {
    std::printf("%s: configuration OK\n", file.c_str());
    return 0;
  }

  log::info(std::string("gemgate ") + GEMGATE_VERSION + " starting (" +
            transport::curl_description() + ")");
  conf::Gateway gateway;
  if (auto r = gateway.start(std::move(*config), registry, conf::process_env); !r.ok()) {
    log::error("cannot start: " + r.error().message);
    return 1;
  }
  return gateway.run_until_signal();
}
