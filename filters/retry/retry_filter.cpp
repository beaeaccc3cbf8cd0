#include "filters/retry/retry_filter.h"

#include "core/exchange.h"
#include "core/log.h"

namespace gemgate::retry {

namespace {

struct RetryState {
  int attempts = 0;  // answers seen so far
};

// A streamed body can be sent again only while its source still holds every byte that went
// upstream (a small prefix is kept for this); after that the failure must stand: replaying
// would send a body with a hole in it.
bool body_replayable(FilterCallbacks& x) {
  const http::Request& req = x.request();
  if (!req.body_stream || req.body_stream->can_rewind()) return true;
  log::warn("not retrying " + x.info().path + " (request id " + x.info().request_id +
            "): " + std::to_string(req.body_stream->consumed()) +
            " bytes of its streamed body already went upstream and cannot be sent again");
  return false;
}

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
    if (x.response().retriable && state.attempts < max_attempts && body_replayable(x) &&
        x.replay()) {
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
