// POST /images/generations → Imagen :predict (one call, sampleCount = n) or a Gemini image
// model's generateContent (one call per image, in sequence, each through the full key failover
// below), merged into one ImagesResponse. The model for OpenAI's own image model names is the
// `openai_image_model` setting.
#include <chrono>
#include <optional>
#include <vector>

#include "filters/openai/openai_filter.h"
#include "filters/openai/ops/sequenced_calls_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

class ImagesGenerationsOp final : public SequencedCallsOp<ImagePlan> {
 public:
  Status on_request(FilterCallbacks& x) override {
    ImageDefaults defaults;
    defaults.default_model = x.settings().get(kImageModel);
    auto plan = plan_image_generation(x.request().body, defaults);
    if (!plan) return reply_error(x, plan.error());
    return start_calls(x, std::move(*plan));  // a plan has at least one call
  }

 private:
  Expected<std::string> merge(const ImagePlan& plan,
                              const std::vector<std::string>& replies) override {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    return merge_images(plan, replies, now);
  }
};

}  // namespace

std::unique_ptr<OpenAIOp> make_images_generations_op() {
  return std::make_unique<ImagesGenerationsOp>();
}

}  // namespace gemgate::openai
