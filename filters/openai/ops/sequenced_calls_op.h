// SequencedCallsOp: the shape of an op that answers one OpenAI request with several Gemini calls
// made one after another — each its own sub-request through the whole chain below (key choice,
// failover, retry) by rerun_below() — and merges their answers at the end (embeddings in batches,
// one image per call). The derived op plans the calls and merges; this runs them.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "filters/openai/ops/openai_op.h"

namespace gemgate::openai {

// Plan: has `calls`, each with `path` ("path?query") and `body`.
template <class Plan>
class SequencedCallsOp : public OpenAIOp {
 public:
  // Keeps the Gemini answer of the call that just ended; puts the next call in x.request() and
  // reruns below (Stop), or, after the last one, replaces the response with merge()'s answer or
  // its error (Continue).
  Status on_response_head(FilterCallbacks& x) final {
    http::Response& r = x.response();
    replies_.push_back(std::move(r.body));
    if (replies_.size() < plan_->calls.size()) {
      const auto& next = plan_->calls[replies_.size()];
      aim(x.request(), "POST", next.path, next.body);
      x.rerun_below();
      return Status::Stop;
    }
    if (Expected<std::string> merged = merge(*plan_, replies_)) {
      r.body = std::move(*merged);
      r.headers.set("content-type", "application/json");
    } else {
      r = error_response(merged.error());
    }
    return Status::Continue;
  }

 protected:
  // From on_request: keeps `plan` (at least one call) and aims x.request() at its first call.
  // Returns Continue, as on_request then must.
  Status start_calls(FilterCallbacks& x, Plan plan) {
    plan_ = std::move(plan);
    aim(x.request(), "POST", plan_->calls.front().path, plan_->calls.front().body);
    return Status::Continue;
  }
  // The OpenAI answer from the Gemini answers of every call, in plan order, or an OpenAI error.
  virtual Expected<std::string> merge(const Plan& plan,
                                      const std::vector<std::string>& replies) = 0;

 private:
  std::optional<Plan> plan_;
  std::vector<std::string> replies_;  // one Gemini answer per call of the plan so far
};

}  // namespace gemgate::openai
