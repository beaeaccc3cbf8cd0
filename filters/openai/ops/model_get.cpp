// GET /models/{id} → Gemini's models get, as one OpenAI model object.
#include <string_view>

#include "filters/openai/ops/openai_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

constexpr std::string_view kPrefix = "/models/";

class ModelGetOp final : public OpenAIOp {
 public:
  Status on_request(FilterCallbacks& x) override {
    http::Request& req = x.request();
    auto target = model_get_path(std::string_view(req.path).substr(kPrefix.size()));
    if (!target) return reply_error(x, target.error());
    aim(req, "GET", *target, "");
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (auto one = translate_model(r.body)) {
      r.body = std::move(*one);
      r.headers.set("content-type", "application/json");
    } else {
      r = error_response(one.error());
    }
    return Status::Continue;
  }
};

}  // namespace

std::unique_ptr<OpenAIOp> make_model_get_op() {
  return std::make_unique<ModelGetOp>();
}

}  // namespace gemgate::openai
