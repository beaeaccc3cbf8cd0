// POST /embeddings → embedContent, or batchEmbedContents in batches of at most 100: one Gemini
// call per batch, in sequence (each through the full key failover below), merged and re-indexed
// in input order.
#include <optional>
#include <vector>

#include "filters/openai/ops/openai_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

class EmbeddingsOp final : public OpenAIOp {
 public:
  Status on_request(FilterCallbacks& x) override {
    auto plan = plan_embeddings(x.request().body);
    if (!plan) return reply_error(x, plan.error());
    plan_ = std::move(*plan);
    if (plan_->calls.empty()) {
      return reply_error(x, OpenAIError::invalid("'input' is empty", std::string("input")));
    }
    aim(x.request(), "POST", plan_->calls.front().path, plan_->calls.front().body);
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    replies_.push_back(std::move(r.body));
    if (replies_.size() < plan_->calls.size()) {
      const EmbeddingCall& next = plan_->calls[replies_.size()];
      aim(x.request(), "POST", next.path, next.body);
      x.rerun_below();
      return Status::Stop;
    }
    if (auto merged = merge_embeddings(*plan_, replies_)) {
      r.body = std::move(*merged);
      r.headers.set("content-type", "application/json");
    } else {
      r = error_response(merged.error());
    }
    return Status::Continue;
  }

 private:
  std::optional<EmbeddingPlan> plan_;
  std::vector<std::string> replies_;  // one Gemini reply per call of the plan so far
};

}  // namespace

std::unique_ptr<OpenAIOp> make_embeddings_op() {
  return std::make_unique<EmbeddingsOp>();
}

}  // namespace gemgate::openai
