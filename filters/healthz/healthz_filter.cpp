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
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "healthz",
      .summary = "answers liveness probes (terminal)",
      .terminal = true,
      .build = [](const FilterBuild<NoConfig>&) -> std::optional<FilterFactory> {
        return FilterFactory([] { return std::make_unique<HealthzFilter>(); });
      },
  });
}

}  // namespace gemgate::healthz
