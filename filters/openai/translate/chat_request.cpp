// translate_chat_request(): validates the envelope and assembles the Gemini body from the pieces
// in detail/request_*.cpp.
#include "filters/openai/translate/chat_request.h"

#include "filters/openai/translate/detail/request_parts.h"
#include "filters/openai/translate/detail/scratch.h"

namespace gemgate::openai {

using detail::Failure;
using detail::field;
using detail::sv;
using detail::Value;

namespace {

// `google.cached_content` and `google.safety_settings` (Google's compat-layer extension).
Failure google_passthrough(const Value& root, detail::Alloc& a, Value& body) {
  std::string gp;
  const Value* google = detail::google_extension(root, &gp);
  if (!google) return std::nullopt;
  if (const Value* cc = field(*google, "cached_content")) {
    if (!cc->IsString())
      return detail::wrong_type(detail::join(gp, "cached_content"), "a string", *cc);
    detail::add(body, "cachedContent", Value(*cc, a), a);
  }
  if (const Value* ss = field(*google, "safety_settings")) {
    if (!ss->IsArray()) {
      return detail::wrong_type(detail::join(gp, "safety_settings"), "an array", *ss);
    }
    detail::add(body, "safetySettings", Value(*ss, a), a);
  }
  return std::nullopt;
}

}  // namespace

Expected<std::string> upstream_model_name(std::string_view model, const std::string& param) {
  for (std::string_view prefix : {"models/", "google/", "gemini/"}) {
    if (model.starts_with(prefix)) {
      model.remove_prefix(prefix.size());
      break;
    }
  }
  if (model.starts_with("models/")) model.remove_prefix(7);  // "google/models/x"
  bool ok = !model.empty() && model.size() <= 128;
  for (char c : model) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    ok = ok && allowed;
  }
  if (!ok || model.find("..") != std::string_view::npos) {
    return OpenAIError::invalid("The model '" + std::string(model) + "' is not a valid model id.",
                                param, "model_not_found");
  }
  return std::string(model);
}

Expected<std::vector<std::string>> list_remote_media(std::string_view openai_body) {
  detail::Scratch scratch;
  detail::ScratchDocument& doc = scratch.doc();
  if (auto ok = detail::parse_request_body(openai_body, doc); !ok) return ok.error();
  std::vector<std::string> urls;
  if (const Value* messages = field(doc, "messages")) detail::collect_remote_media(*messages, urls);
  return urls;
}

bool may_name_remote_media(std::string_view openai_body) {
  return openai_body.find("image_url") != std::string_view::npos ||
         openai_body.find("\\u") != std::string_view::npos;
}

Expected<ChatRequest> translate_chat_request(std::string_view openai_body, const MediaMap& media,
                                             const TranslateOptions& options) {
  detail::Scratch scratch;  // the request's DOM and the Gemini body's, in this thread's arena
  detail::ScratchDocument& doc = scratch.doc();
  if (auto ok = detail::parse_request_body(openai_body, doc); !ok) return ok.error();
  ChatRequest out;
  ChatContext& ctx = out.context;

  const Value* model = field(doc, "model");
  if (!model) return detail::missing_param("model");
  if (!model->IsString()) return detail::wrong_type("model", "a string", *model);
  auto upstream = upstream_model_name(sv(*model));
  if (!upstream) return upstream.error();
  ctx.model = sv(*model);
  ctx.upstream_model = std::move(*upstream);

  if (const Value* stream = field(doc, "stream")) {
    if (!stream->IsBool()) return detail::wrong_type("stream", "a boolean", *stream);
    ctx.stream = stream->GetBool();
  }
  if (const Value* so = field(doc, "stream_options")) {
    if (!so->IsObject()) return detail::wrong_type("stream_options", "an object", *so);
    if (const Value* iu = field(*so, "include_usage")) {
      if (!iu->IsBool())
        return detail::wrong_type("stream_options.include_usage", "a boolean", *iu);
      ctx.include_usage = ctx.stream && iu->GetBool();
    }
  }

  const Value* messages = field(doc, "messages");
  if (!messages) return detail::missing_param("messages");
  if (!messages->IsArray()) return detail::wrong_type("messages", "an array", *messages);
  if (messages->Empty()) {
    return OpenAIError::invalid(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
        "empty array instead.",
        "messages", "empty_array");
  }

  Value gem(rapidjson::kObjectType);
  auto& a = scratch.allocator();
  detail::RequestState st{options, media, a, ctx.upstream_model};
  Value contents, system_parts, config;
  if (auto f = detail::translate_messages(*messages, st, contents, system_parts)) return *f;
  detail::add(gem, "contents", std::move(contents), a);
  if (!system_parts.Empty()) {
    Value si(rapidjson::kObjectType);
    detail::add(si, "parts", std::move(system_parts), a);
    detail::add(gem, "systemInstruction", std::move(si), a);
  }
  if (auto f = detail::translate_tools(doc, st, gem, ctx)) return *f;
  if (auto f = detail::translate_generation_config(doc, st, config, ctx)) return *f;
  if (auto f = detail::translate_output_modalities(doc, st, config, ctx)) return *f;
  if (!config.ObjectEmpty()) detail::add(gem, "generationConfig", std::move(config), a);
  if (auto f = google_passthrough(doc, a, gem)) return *f;

  out.path = "/v1beta/models/" + ctx.upstream_model +
             (ctx.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  out.body = detail::write_json(gem);
  return out;
}

}  // namespace gemgate::openai
