#include "filters/anthropic/translate/messages_response.h"

#include "filters/anthropic/translate/detail/blocks.h"
#include "filters/openai/translate/detail/scratch.h"

namespace gemgate::anthropic {

namespace {

using openai::detail::add;
using openai::detail::field;
using openai::detail::sv;
using openai::detail::Value;

int64_t count(const Value& u, std::string_view key) {
  const Value* v = field(u, key);
  auto n = v ? openai::detail::as_int(*v) : std::nullopt;
  return n && *n > 0 ? *n : 0;
}

std::string_view string_at(const Value& obj, std::string_view a, std::string_view b) {
  const Value* x = field(obj, a);
  const Value* y = x && x->IsObject() ? field(*x, b) : nullptr;
  return y && y->IsString() ? sv(*y) : std::string_view();
}

}  // namespace

Usage usage_of(const Value* um) {
  Usage u;
  if (!um || !um->IsObject()) return u;
  int64_t prompt = count(*um, "promptTokenCount") + count(*um, "toolUsePromptTokenCount");
  u.cache_read_input_tokens = count(*um, "cachedContentTokenCount");
  u.input_tokens = prompt > u.cache_read_input_tokens ? prompt - u.cache_read_input_tokens : 0;
  u.output_tokens = count(*um, "candidatesTokenCount") + count(*um, "thoughtsTokenCount");
  return u;
}

std::string usage_json(const Usage& u) {
  return "{\"input_tokens\":" + std::to_string(u.input_tokens) +
         ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":" +
         std::to_string(u.cache_read_input_tokens) +
         ",\"output_tokens\":" + std::to_string(u.output_tokens) + "}";
}

std::string_view stop_reason_of(std::string_view g, std::string_view block, bool has_tool_use) {
  if (!block.empty()) return "refusal";
  if (g == "MAX_TOKENS") return "max_tokens";
  if (g == "SAFETY" || g == "RECITATION" || g == "BLOCKLIST" || g == "PROHIBITED_CONTENT" ||
      g == "SPII" || g == "IMAGE_SAFETY" || g == "IMAGE_PROHIBITED_CONTENT" ||
      g == "IMAGE_RECITATION")
    return "refusal";
  return has_tool_use ? "tool_use" : "end_turn";
}

Expected<MessagesResponse> translate_messages_response(std::string_view gemini_body,
                                                       const MessagesContext& ctx,
                                                       std::string_view message_id) {
  openai::detail::Scratch scratch;  // the answer's DOM and the response's
  openai::detail::ScratchDocument& g = scratch.doc();
  std::string why;
  if (!openai::detail::parse_json(gemini_body, g, &why) || !g.IsObject())
    return AnthropicError::bad_upstream("the upstream answer is not valid JSON");
  detail::BlockAssembler blocks(std::string(message_id), false);
  std::string_view finish;
  const Value* cands = field(g, "candidates");
  if (cands && cands->IsArray() && !cands->Empty() && (*cands)[0].IsObject()) {
    const Value& c = (*cands)[0];
    const Value* content = field(c, "content");
    const Value* parts = content && content->IsObject() ? field(*content, "parts") : nullptr;
    if (parts && parts->IsArray()) {
      for (const Value& p : parts->GetArray()) blocks.part(p);
    }
    if (const Value* f = field(c, "finishReason"); f && f->IsString()) finish = sv(*f);
  }
  blocks.close();
  MessagesResponse out;
  out.usage = usage_of(field(g, "usageMetadata"));
  Value r(rapidjson::kObjectType);
  auto& a = scratch.allocator();
  add(r, "id", message_id, a);
  add(r, "type", "message", a);
  add(r, "role", "assistant", a);
  add(r, "model", ctx.model, a);
  add(r, "content", blocks.content(a), a);
  add(r, "stop_reason",
      stop_reason_of(finish, string_at(g, "promptFeedback", "blockReason"), blocks.has_tool_use()),
      a);
  add(r, "stop_sequence", Value(), a);
  openai::detail::ScratchDocument u(&a, 256, &a);
  u.Parse(usage_json(out.usage).c_str());
  add(r, "usage", Value(u, a), a);
  out.body = openai::detail::write_json(r);
  return out;
}

}  // namespace gemgate::anthropic
