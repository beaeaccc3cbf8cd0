#include "filters/healthz/healthz_filter.h"

#include "core/exchange.h"

namespace gemgate::healthz {

namespace {

class HealthzFilter final : public Filter {
 public:
  Status on_request(FilterCallbacks& x) override {
    http::Response& r = x.response();
    r.status = 200;
    r.headers.set("content-type", "application/json");
    r.headers.set("cache-control", "no-store");
    r.body = "{\"status\":\"ok\"}";
    return Status::Continue;
  }
};

}  // namespace

Result<void> register_healthz_filter(Registry& registry) {
  FilterType type;
  type.name = "healthz";
  type.summary = "answers liveness probes (terminal)";
  type.terminal = true;
  type.create = [](const ConfigNode& config, FilterContext&,
                   ConfigErrors& errors) -> std::optional<FilterFactory> {
    config::expect_keys(config, {}, errors);
    return FilterFactory([] { return std::make_unique<HealthzFilter>(); });
  };
  return registry.add_filter(std::move(type));
}

}  // namespace gemgate::healthz
