#include "filters/anthropic/translate/messages_request.h"

#include <cctype>

#include "filters/anthropic/translate/detail/content.h"
#include "filters/openai/translate/detail/scratch.h"
#include "filters/openai/translate/schema.h"

namespace gemgate::anthropic {

namespace {

using detail::Alloc;
using detail::Document;
using detail::Value;
using openai::detail::add;
using openai::detail::field;
using openai::detail::sv;

constexpr size_t kMaxStopSequences = 5;  // Gemini's limit

AnthropicError bad(const std::string& where, const std::string& what) {
  return AnthropicError::invalid(where + ": " + what);
}

template <class Doc>
Expected<Doc*> parse(std::string_view body, Doc& doc) {
  std::string why;
  if (!openai::detail::parse_json(body, doc, &why))
    return AnthropicError::invalid("the request body is not valid JSON: " + why);
  if (!doc.IsObject()) return AnthropicError::invalid("the request body must be a JSON object");
  return &doc;
}

// The model id as it goes into the URL path: [A-Za-z0-9._-] only ("models/" prefix dropped).
Expected<std::string> model_of(const Value& req) {
  const Value* m = field(req, "model");
  if (!m || !m->IsString() || m->GetStringLength() == 0) return bad("model", "Field required");
  std::string_view id = sv(*m);
  if (id.starts_with("models/")) id.remove_prefix(7);
  if (id.empty() || id.size() > 128) return bad("model", "is not a valid model name");
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
      return bad("model", "is not a valid model name");
  }
  return std::string(id);
}

std::optional<AnthropicError> tools(const Value& req, Alloc& a, Value& out) {
  const Value* list = field(req, "tools");
  if (!list) return std::nullopt;
  if (!list->IsArray()) return bad("tools", "must be a list");
  Value decls(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const Value& t = (*list)[i];
    std::string w = "tools." + std::to_string(i);
    if (!t.IsObject()) return bad(w, "a tool must be an object");
    const Value* type = field(t, "type");
    if (type && type->IsString() && sv(*type) != "custom") {
      return bad(w + ".type", "server tool '" + std::string(sv(*type)) +
                                  "' is not available through this gateway; declare a custom tool");
    }
    const Value* name = field(t, "name");
    if (!name || !name->IsString() || name->GetStringLength() == 0)
      return bad(w + ".name", "Field required");
    Value decl(rapidjson::kObjectType);
    add(decl, "name", sv(*name), a);
    if (const Value* d = field(t, "description"); d && d->IsString())
      add(decl, "description", sv(*d), a);
    const Value* schema = field(t, "input_schema");
    if (!schema || !schema->IsObject()) return bad(w + ".input_schema", "Field required");
    auto cleaned =
        openai::clean_schema(*schema, openai::SchemaMode::kJsonSchema, a, w + ".input_schema");
    if (!cleaned) return AnthropicError::invalid(cleaned.error().message);
    add(decl, "parametersJsonSchema", std::move(*cleaned), a);
    decls.PushBack(std::move(decl), a);
  }
  if (decls.Empty()) return std::nullopt;
  Value tool(rapidjson::kObjectType);
  add(tool, "functionDeclarations", std::move(decls), a);
  Value arr(rapidjson::kArrayType);
  arr.PushBack(std::move(tool), a);
  add(out, "tools", std::move(arr), a);
  return std::nullopt;
}

std::optional<AnthropicError> tool_choice(const Value& req, Alloc& a, Value& out) {
  const Value* tc = field(req, "tool_choice");
  if (!tc) return std::nullopt;
  const Value* type = tc->IsObject() ? field(*tc, "type") : nullptr;
  if (!type || !type->IsString()) return bad("tool_choice.type", "Field required");
  std::string_view t = sv(*type);
  Value cfg(rapidjson::kObjectType);
  // disable_parallel_tool_use: Gemini has no switch for it; it is accepted and ignored.
  if (t == "auto") {
    add(cfg, "mode", "AUTO", a);
  } else if (t == "any") {
    add(cfg, "mode", "ANY", a);
  } else if (t == "none") {
    add(cfg, "mode", "NONE", a);
  } else if (t == "tool") {
    const Value* name = field(*tc, "name");
    if (!name || !name->IsString()) return bad("tool_choice.name", "Field required");
    add(cfg, "mode", "ANY", a);
    Value names(rapidjson::kArrayType);
    names.PushBack(openai::detail::str(sv(*name), a), a);
    add(cfg, "allowedFunctionNames", std::move(names), a);
  } else {
    return bad("tool_choice.type", "must be auto, any, tool or none");
  }
  Value tool_config(rapidjson::kObjectType);
  add(tool_config, "functionCallingConfig", std::move(cfg), a);
  add(out, "toolConfig", std::move(tool_config), a);
  return std::nullopt;
}

std::optional<AnthropicError> number(const Value& req, std::string_view key, std::string_view to,
                                     double lo, double hi, Value& gen, Alloc& a) {
  const Value* v = field(req, key);
  if (!v) return std::nullopt;
  if (!v->IsNumber() || v->GetDouble() < lo || v->GetDouble() > hi)
    return bad(std::string(key), "must be a number between " + std::to_string(lo).substr(0, 3) +
                                     " and " + std::to_string(hi).substr(0, 3));
  add(gen, to, Value(v->GetDouble()), a);
  return std::nullopt;
}

std::optional<AnthropicError> generation(const Value& req, bool need_max, MessagesContext& ctx,
                                         Alloc& a, Value& out) {
  Value gen(rapidjson::kObjectType);
  const Value* mt = field(req, "max_tokens");
  auto max = mt ? openai::detail::as_int(*mt) : std::nullopt;
  if (mt && (!max || *max < 1)) return bad("max_tokens", "must be a positive integer");
  if (!mt && need_max) return bad("max_tokens", "Field required");
  if (max) add(gen, "maxOutputTokens", Value(static_cast<int64_t>(*max)), a);
  if (auto e = number(req, "temperature", "temperature", 0, 2, gen, a)) return e;
  if (auto e = number(req, "top_p", "topP", 0, 1, gen, a)) return e;
  if (const Value* k = field(req, "top_k")) {
    auto n = openai::detail::as_int(*k);
    if (!n || *n < 0) return bad("top_k", "must be a non-negative integer");
    add(gen, "topK", Value(static_cast<int64_t>(*n)), a);
  }
  if (const Value* s = field(req, "stop_sequences")) {
    if (!s->IsArray()) return bad("stop_sequences", "must be a list of strings");
    if (s->Size() > kMaxStopSequences)
      return bad("stop_sequences", "at most 5 stop sequences are supported");
    Value seqs(rapidjson::kArrayType);
    for (const Value& x : s->GetArray()) {
      if (!x.IsString() || x.GetStringLength() == 0)
        return bad("stop_sequences", "must be a list of non-empty strings");
      ctx.stop_sequences.emplace_back(sv(x));
      seqs.PushBack(Value(x, a), a);
    }
    if (!seqs.Empty()) add(gen, "stopSequences", std::move(seqs), a);
  }
  if (const Value* th = field(req, "thinking")) {
    const Value* type = th->IsObject() ? field(*th, "type") : nullptr;
    std::string_view t = type && type->IsString() ? sv(*type) : std::string_view();
    Value tc(rapidjson::kObjectType);
    if (t == "enabled") {
      const Value* b = field(*th, "budget_tokens");
      auto budget = b ? openai::detail::as_int(*b) : std::nullopt;
      if (!budget || *budget < 1)
        return bad("thinking.budget_tokens", "must be a positive integer");
      add(tc, "thinkingBudget", Value(static_cast<int64_t>(*budget)), a);
      add(tc, "includeThoughts", Value(true), a);
      ctx.thinking = true;
    } else if (t == "adaptive") {
      add(tc, "thinkingBudget", Value(-1), a);  // Gemini's dynamic thinking
      add(tc, "includeThoughts", Value(true), a);
      ctx.thinking = true;
    } else if (t != "disabled") {
      return bad("thinking.type", "must be enabled, adaptive or disabled");
    }
    if (!tc.ObjectEmpty()) add(gen, "thinkingConfig", std::move(tc), a);
  }
  if (!gen.ObjectEmpty()) add(out, "generationConfig", std::move(gen), a);
  return std::nullopt;
}

Expected<MessagesRequest> build(std::string_view body, const MediaMap& media, bool count) {
  openai::detail::Scratch scratch;  // the request's DOM and the Gemini body's
  openai::detail::ScratchDocument& doc = scratch.doc();
  if (auto p = parse(body, doc); !p) return p.error();
  auto model = model_of(doc);
  if (!model) return model.error();
  MessagesRequest out;
  out.context.model = *model;
  if (const Value* s = field(doc, "stream")) {
    if (!s->IsBool()) return bad("stream", "must be a boolean");
    out.context.stream = s->GetBool() && !count;
  }
  Value g(rapidjson::kObjectType);
  Alloc& a = scratch.allocator();
  Value system;
  if (const Value* s = field(doc, "system")) {
    if (auto e = detail::translate_system(*s, a, &system)) return *e;
  }
  const Value* messages = field(doc, "messages");
  if (!messages) return bad("messages", "Field required");
  Value contents;
  bool gemini3 = model->starts_with("gemini-3");
  if (auto e = detail::translate_messages(*messages, media, gemini3, a, &contents)) return *e;
  if (count) {
    if (!system.IsNull()) {
      add(system, "role", "user", a);
      Value all(rapidjson::kArrayType);
      all.PushBack(std::move(system), a);
      for (auto& c : contents.GetArray()) all.PushBack(std::move(c), a);
      contents = std::move(all);
    }
    add(g, "contents", std::move(contents), a);
    out.path = "/v1beta/models/" + *model + ":countTokens";
    out.body = openai::detail::write_json(g);
    return out;
  }
  add(g, "contents", std::move(contents), a);
  if (!system.IsNull()) add(g, "systemInstruction", std::move(system), a);
  if (auto e = tools(doc, a, g)) return *e;
  if (auto e = tool_choice(doc, a, g)) return *e;
  if (auto e = generation(doc, true, out.context, a, g)) return *e;
  out.path = "/v1beta/models/" + *model +
             (out.context.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  out.body = openai::detail::write_json(g);
  return out;
}

}  // namespace

Expected<std::vector<std::string>> list_remote_media(std::string_view body) {
  openai::detail::Scratch scratch;
  openai::detail::ScratchDocument& doc = scratch.doc();
  if (auto p = parse(body, doc); !p) return p.error();
  std::vector<std::string> urls;
  if (const Value* m = field(doc, "messages")) detail::collect_media_urls(*m, &urls);
  return urls;
}

Expected<MessagesRequest> translate_messages_request(std::string_view body, const MediaMap& media) {
  return build(body, media, false);
}

Expected<MessagesRequest> translate_count_tokens_request(std::string_view body,
                                                         const MediaMap& media) {
  return build(body, media, true);
}

Expected<std::string> translate_count_tokens_response(std::string_view gemini_body) {
  Document doc;
  std::string why;
  if (!openai::detail::parse_json(gemini_body, doc, &why) || !doc.IsObject())
    return AnthropicError::bad_upstream("the upstream countTokens answer is not valid JSON");
  const Value* total = field(doc, "totalTokens");
  auto n = total ? openai::detail::as_int(*total) : std::optional<int64_t>(0);
  if (!n) return AnthropicError::bad_upstream("the upstream countTokens answer has no count");
  return "{\"input_tokens\":" + std::to_string(*n) + "}";
}

}  // namespace gemgate::anthropic
