// The `openai` filter: routes each request to its op (ops/, one per endpoint) and applies what
// they share; registers the filter, its settings and the `openai` error format.
#include "filters/openai/openai_filter.h"

#include <memory>
#include <optional>
#include <string_view>

#include "core/exchange.h"
#include "filters/openai/ops/openai_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

// The endpoints, in the order they are matched: how a path is recognised, the one method it
// takes, and the op that serves it.
struct Route {
  bool (*matches)(std::string_view path);
  const char* method;
  std::unique_ptr<OpenAIOp> (*make)();
};

constexpr Route kRoutes[] = {
    {[](std::string_view p) { return p == "/chat/completions"; }, "POST",
     &make_chat_completions_op},
    {[](std::string_view p) { return p == "/embeddings"; }, "POST", &make_embeddings_op},
    {[](std::string_view p) { return p == "/images/generations"; }, "POST",
     &make_images_generations_op},
    {[](std::string_view p) { return p == "/audio/speech"; }, "POST", &make_audio_speech_op},
    {[](std::string_view p) { return p == "/models"; }, "GET", &make_models_list_op},
    {[](std::string_view p) { return p.starts_with("/models/") && p.size() > 8; }, "GET",
     &make_model_get_op},
};

// Routes each request to its op once, and handles on the way back what every op shares.
class OpenAIFilter final : public Filter {
 public:
  Status on_request(FilterCallbacks& x) override {
    const http::Request& req = x.request();
    const Route* route = nullptr;
    for (const Route& r : kRoutes) {
      if (r.matches(req.path)) {
        route = &r;
        break;
      }
    }
    if (!route) {
      return reply_error(x, request_error(404, "unknown endpoint " + req.path, "unknown_url"));
    }
    if (req.method != route->method) {
      return reply_error(
          x, request_error(405, std::string("use ") + route->method + " for " + req.path,
                           "method_not_allowed"));
    }
    op_ = route->make();
    return op_->on_request(x);
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (r.local_error) return Status::Continue;  // rendered in OpenAI's shape by the chain
    if (r.status < 200 || r.status >= 300) {
      r = error_response(translate_gemini_error(r.status, r.body));
      return Status::Continue;
    }
    return op_ ? op_->on_response_head(x) : Status::Continue;
  }

  void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) override {
    if (op_) op_->on_response_data(x, chunk, last);
  }

  void on_done(const FilterCallbacks&) override {
    if (op_) op_->on_done();
  }

 private:
  std::unique_ptr<OpenAIOp> op_;  // set once the route and method are known
};

// A model setting must be a model id (it goes into the URL path).
std::string check_model_setting(const rapidjson::Value& v) {
  if (!v.IsString()) return "must be a model name";
  auto name = upstream_model_name(std::string_view(v.GetString(), v.GetStringLength()));
  return name ? "" : "is not a valid model name";
}

std::string render_openai_error(const http::LocalError& e) {
  return from_local(e).to_json();
}

}  // namespace

Result<void> register_openai_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kIncludeReasoning.with({.description = "Ask Gemini for thought summaries on OpenAI chat "
                                             "calls and return them as reasoning_content.",
                              .default_json = "false"}),
      kFetchPrivateUrls.with(
          {.description = "Allow image URLs on local/private addresses in OpenAI chat calls (off: "
                          "the gateway never reads its own network).",
           .default_json = "false"}),
      kImageModel.with({.description = "Gemini model for OpenAI image calls naming dall-e-* or "
                                       "gpt-image-* (or no model): an imagen-* model is called "
                                       "with :predict, any other with generateContent.",
                        .default_json = "\"imagen-4.0-generate-001\"",
                        .check = &check_model_setting}),
      kSpeechModel.with({.description = "Gemini TTS model for OpenAI speech calls naming tts-1, "
                                        "tts-1-hd or gpt-*-tts.",
                         .default_json = "\"gemini-2.5-flash-preview-tts\"",
                         .check = &check_model_setting}),
  });
  if (!declared.ok()) return declared;
  if (auto r = registry.add_error_format("openai", &render_openai_error); !r.ok()) return r;
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "openai",
      .summary = "serves the OpenAI API by translating to and from Gemini",
      .build = [](const FilterBuild<NoConfig>&) -> std::optional<FilterFactory> {
        return FilterFactory([] { return std::make_unique<OpenAIFilter>(); });
      },
  });
}

}  // namespace gemgate::openai
