// POST /embeddings → embedContent, or batchEmbedContents in batches of at most 100: one Gemini
// call per batch, in sequence (each through the full key failover below), merged and re-indexed
// in input order.
#include <optional>
#include <vector>

#include "filters/openai/ops/sequenced_calls_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

class EmbeddingsOp final : public SequencedCallsOp<EmbeddingPlan> {
 public:
  Status on_request(FilterCallbacks& x) override {
    auto plan = plan_embeddings(x.request().body);
    if (!plan) return reply_error(x, plan.error());
    if (plan->calls.empty()) {
      return reply_error(x, OpenAIError::invalid("'input' is empty", std::string("input")));
    }
    return start_calls(x, std::move(*plan));
  }

 private:
  Expected<std::string> merge(const EmbeddingPlan& plan,
                              const std::vector<std::string>& replies) override {
    return merge_embeddings(plan, replies);
  }
};

}  // namespace

std::unique_ptr<OpenAIOp> make_embeddings_op() {
  return std::make_unique<EmbeddingsOp>();
}

}  // namespace gemgate::openai
