// POST /images/generations → Imagen :predict (one call, sampleCount = n) or a Gemini image
// model's generateContent (one call per image, in sequence, each through the full key failover
// below), merged into one ImagesResponse. The model for OpenAI's own image model names is the
// `openai_image_model` setting.
#include <chrono>
#include <optional>
#include <vector>

#include "filters/openai/openai_filter.h"
#include "filters/openai/ops/openai_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

class ImagesGenerationsOp final : public OpenAIOp {
 public:
  Status on_request(FilterCallbacks& x) override {
    ImageDefaults defaults;
    defaults.default_model = x.settings().get(kImageModel);
    auto plan = plan_image_generation(x.request().body, defaults);
    if (!plan) return reply_error(x, plan.error());
    plan_ = std::move(*plan);
    aim(x.request(), "POST", plan_->calls.front().path, plan_->calls.front().body);
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    replies_.push_back(std::move(r.body));
    if (replies_.size() < plan_->calls.size()) {
      const ImageCall& next = plan_->calls[replies_.size()];
      aim(x.request(), "POST", next.path, next.body);
      x.rerun_below();
      return Status::Stop;
    }
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    if (auto merged = merge_images(*plan_, replies_, now)) {
      r.body = std::move(*merged);
      r.headers.set("content-type", "application/json");
    } else {
      r = error_response(merged.error());
    }
    return Status::Continue;
  }

 private:
  std::optional<ImagePlan> plan_;
  std::vector<std::string> replies_;  // one Gemini reply per call of the plan so far
};

}  // namespace

std::unique_ptr<OpenAIOp> make_images_generations_op() {
  return std::make_unique<ImagesGenerationsOp>();
}

}  // namespace gemgate::openai
