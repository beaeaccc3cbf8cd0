// gemgate's entry point: command line, configuration, and the Gateway's life.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "conf/cli/usage.h"
#include "conf/config.h"
#include "conf/config_load.h"
#include "conf/env_check.h"
#include "conf/gateway.h"
#include "conf/yaml_loader.h"
#include "core/log.h"
#include "core/server/server.h"
#include "transports/curl_global.h"

#ifndef GEMGATE_VERSION
#define GEMGATE_VERSION "0.0.0"
#endif

namespace {

struct Options {
  std::string config_path;
  std::string listen;
  bool check_only = false;
};

int fail_usage(const std::string& message) {
  std::fprintf(stderr, "gemgate: %s\n\n%s", message.c_str(), gemgate::conf::kUsageText);
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
  // SIGHUP reloads the configuration once the gateway runs; before that (and after it stops
  // listening for it) it must not end the process as its default action would.
  std::signal(SIGHUP, SIG_IGN);
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(gemgate::conf::kUsageText, stdout);
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

  if (!opt.listen.empty()) {
    std::string host;
    int port = 0;
    if (!server::parse_listen_address(opt.listen, &host, &port)) {
      return fail_usage("--listen needs HOST:PORT, got '" + opt.listen + "'");
    }
  }
  conf::ConfigSource source{opt.config_path, opt.listen};
  if (std::string text, file; !conf::read_config_text(source, &text, &file).ok()) {
    std::fprintf(stderr, "gemgate: cannot read %s: %s\n", opt.config_path.c_str(),
                 std::strerror(errno));
    return 1;
  }

  ConfigErrors errors;
  Registry registry;
  if (auto r = conf::register_everything(registry); !r.ok()) {
    std::fprintf(stderr, "gemgate: internal error: %s\n", r.error().message.c_str());
    return 1;
  }
  log::Level level = log::Level::kInfo;
  auto config =
      conf::read_config(source, conf::process_env, registry.settings_schema(), &level, errors);
  if (config) {
    // Chains are validated against empty services here; the real ones are built at start.
    Services services = conf::validation_services();
    conf::build_all_routes(config->root, registry, services, errors);
  }
  // The environment is checked here too, so --check-config reports what start-up would refuse.
  std::vector<std::string> env_problems =
      conf::environment_problems(conf::process_env, registry.settings_schema());
  if (!errors.empty() || !env_problems.empty()) {
    // In file order (the checks find them grouped by kind), then the environment's.
    std::vector<ConfigError> sorted = errors.errors();
    std::stable_sort(sorted.begin(), sorted.end(), [](const ConfigError& a, const ConfigError& b) {
      return std::tie(a.at.file, a.at.line, a.at.column) <
             std::tie(b.at.file, b.at.line, b.at.column);
    });
    ConfigErrors ordered;
    for (const ConfigError& e : sorted)
      ordered.add(Mark{e.at.file, e.at.line, e.at.column}, e.message);
    for (const std::string& line : ordered.lines()) std::fprintf(stderr, "%s\n", line.c_str());
    for (const std::string& p : env_problems) std::fprintf(stderr, "environment: %s\n", p.c_str());
    std::fprintf(stderr, "gemgate: %zu configuration error(s)%s\n",
                 errors.size() + env_problems.size(),
                 opt.check_only ? "" : "; nothing was started or stored");
    return 1;
  }
  std::string file = opt.config_path.empty() ? "<built-in gemgate.yaml>" : opt.config_path;
  if (opt.check_only) {
    std::printf("%s: configuration OK\n", file.c_str());
    return 0;
  }
  log::set_level(level);
  if (log::Format format; log::parse_format(config->log_format, &format)) log::set_format(format);

  log::info(std::string("gemgate ") + GEMGATE_VERSION + " starting (" +
            transport::curl_description() + ")");
  conf::Gateway gateway;
  if (auto r = gateway.start(std::move(*config), registry, conf::process_env, source); !r.ok()) {
    log::error("cannot start: " + r.error().message);
    return 1;
  }
  return gateway.run_until_signal();
}
