// An out-of-tree filter for gemgate: `request_id` gives every answer an `x-request-id` header
// (taken from the client's own header when it sent one, else generated), and writes it into the
// request going upstream too. It shows the whole filter contract in a few lines: a typed config
// parsed and validated at load time with positions, a factory that captures it, and the hooks.
//
// The program registers it in a Registry of its own, builds the chain in chain.yaml with
// gemgate's own loader and validator, and runs one request through it against a scripted
// terminal, printing what happened. It uses only the installed filter SDK (gemgate::filter_sdk:
// core/ and the YAML loader), so it builds out of gemgate's tree too.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "conf/yaml_loader.h"
#include "core/crypto.h"
#include "core/exchange.h"
#include "core/registry.h"
#include "core/worker.h"

using namespace gemgate;

namespace {

struct RequestIdConfig {
  std::string header = "x-request-id";
  std::string prefix = "req-";
};

class RequestIdFilter final : public Filter {
 public:
  explicit RequestIdFilter(std::shared_ptr<const RequestIdConfig> config)
      : config_(std::move(config)) {}

  Status on_request(FilterCallbacks& x) override {
    const std::string* given = x.request().headers.get(config_->header);
    id_ = given ? *given : crypto::random_token(config_->prefix, 12);
    x.request().headers.set(config_->header, id_);
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    x.response().headers.set(config_->header, id_);
    return Status::Continue;
  }

 private:
  std::shared_ptr<const RequestIdConfig> config_;
  std::string id_;
};

// A terminal that answers at once, standing in for `upstream` so the example needs no network.
class EchoTerminal final : public Filter {
 public:
  Status on_request(FilterCallbacks& x) override {
    x.response().status = 200;
    x.response().headers.set("content-type", "application/json");
    x.response().body = "{\"upstream_saw\":\"" +
                        std::string(x.request().headers.get_or("x-request-id", "")) + "\"}";
    return Status::Continue;
  }
};

Result<void> register_example_filters(Registry& registry) {
  // Each YAML key once: how it is read and what it must be. Unknown keys are refused from this
  // table, with the file, line and column of the offending node.
  ConfigField<RequestIdConfig> header = field::text("header", &RequestIdConfig::header);
  header.check = [](const ConfigNode& config, std::string_view, std::string_view,
                    RequestIdConfig& c, ConfigErrors& errors) {
    if (c.header.empty()) errors.add(config.mark(), "'header' must not be empty");
  };
  auto id = registry.add_filter(FilterDef<RequestIdConfig>{
      .name = "request_id",
      .summary = "tags every request and answer with an id",
      .fields = {header, field::text("prefix", &RequestIdConfig::prefix)},
      .build = [](const FilterBuild<RequestIdConfig>& b) -> std::optional<FilterFactory> {
        return FilterFactory([c = b.config] { return std::make_unique<RequestIdFilter>(c); });
      },
  });
  if (!id.ok()) return id;
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "echo",
      .summary = "answers with what it received (terminal)",
      .terminal = true,
      .build = [](const FilterBuild<NoConfig>&) -> std::optional<FilterFactory> {
        return FilterFactory([] { return std::make_unique<EchoTerminal>(); });
      },
  });
}

// Collects what the chain sends to the client.
struct PrintingDownstream final : Downstream {
  void send_response(const http::Response& r) override {
    std::printf("status %d, x-request-id: %s\nbody: %s\n", r.status,
                std::string(r.headers.get_or("x-request-id", "-")).c_str(), r.body.c_str());
  }
  void send_stream_head(const http::Response&) override {}
  void send_chunk(std::string_view) override {}
  void end_stream(bool) override {}
  void exchange_finished() override {}
};

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "chain.yaml";
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "usage: custom_filter_example [chain.yaml]\n");
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();

  Registry registry;
  if (!register_example_filters(registry).ok()) return 1;
  ConfigErrors errors;
  auto root = conf::load_yaml(text.str(), path, conf::process_env, errors);
  Services services;
  std::shared_ptr<const ChainSpec> chain;
  if (root && root->get("chain"))
    chain = build_chain("example", *root->get("chain"), registry, services, errors);
  for (const std::string& line : errors.lines()) std::fprintf(stderr, "%s\n", line.c_str());
  if (!chain) return 1;

  Worker worker(0);
  PrintingDownstream downstream;
  Exchange x(worker, chain, std::make_shared<const Settings>(), downstream);
  x.request().method = "GET";
  x.request().path = "/hello";
  x.start();
  return 0;
}
