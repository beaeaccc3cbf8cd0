// GET /models → Gemini's models list (one page of up to 1000); GET /models/{id} → models get.
// Both answered in Anthropic's model shape.
#include "filters/anthropic/translate/models.h"

#include <memory>

#include "filters/anthropic/ops/anthropic_op.h"

namespace gemgate::anthropic {

namespace {

class ModelsOp final : public AnthropicOp {
 public:
  explicit ModelsOp(bool one) : one_(one) {}

  Status on_request(FilterCallbacks& x) override {
    if (!one_) {
      aim(x.request(), "GET", kModelsListPath, "");
      return Status::Continue;
    }
    auto path = model_get_path(std::string_view(x.request().path).substr(8));
    if (!path) return reply_error(x, path.error());
    aim(x.request(), "GET", *path, "");
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    auto res = one_ ? translate_model(r.body) : translate_models_list(r.body);
    if (res) {
      r.body = std::move(*res);
      r.headers.set("content-type", "application/json");
    } else {
      r = error_response(res.error());
    }
    return Status::Continue;
  }

 private:
  bool one_;
};

}  // namespace

std::unique_ptr<AnthropicOp> make_models_list_op(const OpContext&) {
  return std::make_unique<ModelsOp>(false);
}

std::unique_ptr<AnthropicOp> make_model_get_op(const OpContext&) {
  return std::make_unique<ModelsOp>(true);
}

}  // namespace gemgate::anthropic
