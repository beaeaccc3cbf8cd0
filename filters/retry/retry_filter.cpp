#include "filters/retry/retry_filter.h"

#include "core/exchange.h"

namespace gemgate::retry {

namespace {

struct RetryState {
  int attempts = 0;  // answers seen so far
};

class RetryFilter final : public Filter {
 public:
  Status on_request(FilterCallbacks& x) override {
    x.mark_replay_point();
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    RetryState& state = x.run_slot<RetryState>();
    ++state.attempts;
    int64_t max_attempts = x.settings().get(kMaxRetries);
    if (x.response().retriable && state.attempts < max_attempts && x.replay()) {
      return Status::Stop;
    }
    x.response().retriable = false;
    return Status::Continue;
  }
};

}  // namespace

Result<void> register_retry_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kMaxRetries.with({.description = "Upstream attempts per request in all (each on a different "
                                       "key), made only before the first byte went to the client.",
                        .default_json = "3",
                        .min = 1,
                        .max = 20}),
  });
  if (!declared.ok()) return declared;
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "retry",
      .summary = "replays the filters below it on a retriable failure, before any byte went out",
      .build = [](const FilterBuild<NoConfig>&) -> std::optional<FilterFactory> {
        return FilterFactory([] { return std::make_unique<RetryFilter>(); });
      },
  });
}

}  // namespace gemgate::retry
