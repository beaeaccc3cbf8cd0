#include "filters/anthropic/translate/messages_stream.h"

#include "filters/openai/translate/detail/scratch.h"

namespace gemgate::anthropic {

namespace {

using openai::detail::field;
using openai::detail::sv;
using openai::detail::Value;

std::string quoted(std::string_view s) {
  return openai::detail::quote_json(s);
}

}  // namespace

MessagesStreamTranslator::MessagesStreamTranslator(MessagesContext ctx, std::string message_id,
                                                   size_t max_event_bytes)
    : ctx_(std::move(ctx)),
      id_(std::move(message_id)),
      decoder_(max_event_bytes),
      blocks_(id_, true) {}

void MessagesStreamTranslator::feed(std::string_view bytes, std::string& out) {
  if (done_) return;
  auto status = decoder_.feed(bytes, [&](std::string_view data) { return on_event(data, out); });
  if (status == openai::detail::SseDecoder::Status::kTooLarge && !done_)
    fail(AnthropicError::bad_upstream("an upstream stream event is too large"), out);
}

void MessagesStreamTranslator::finish(std::string& out) {
  if (done_) return;
  auto status = decoder_.finish([&](std::string_view data) { return on_event(data, out); });
  if (done_) return;
  if (status == openai::detail::SseDecoder::Status::kTooLarge) {
    fail(AnthropicError::bad_upstream("an upstream stream event is too large"), out);
    return;
  }
  if (!started_) {
    fail(AnthropicError::bad_upstream("the upstream stream ended without an answer"), out);
    return;
  }
  blocks_.close();
  out += blocks_.events();
  blocks_.events().clear();
  std::string reason(stop_reason_of(finish_reason_, block_reason_, blocks_.has_tool_use()));
  out += detail::sse_event("message_delta",
                           "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + reason +
                               "\",\"stop_sequence\":null},\"usage\":" + usage_json(usage_) + "}");
  out += detail::sse_event("message_stop", "{\"type\":\"message_stop\"}");
  done_ = true;
}

void MessagesStreamTranslator::fail(const AnthropicError& error, std::string& out) {
  if (done_) return;
  out += blocks_.events();
  blocks_.events().clear();
  error_ = error;
  out += error.to_sse();
  done_ = true;
}

void MessagesStreamTranslator::ping(std::string& out) {
  if (started_ && !done_) out += detail::sse_event("ping", "{\"type\":\"ping\"}");
}

bool MessagesStreamTranslator::on_event(std::string_view data, std::string& out) {
  openai::detail::Scratch scratch;  // the event's DOM, in this thread's arena
  openai::detail::ScratchDocument& g = scratch.doc();
  std::string why;
  if (!openai::detail::parse_json_in_place(data, g, &why) || !g.IsObject()) {
    fail(AnthropicError::bad_upstream("the upstream sent an invalid stream event"), out);
    return false;
  }
  if (field(g, "error")) {
    fail(translate_gemini_error(200, data), out);
    return false;
  }
  if (const Value* um = field(g, "usageMetadata")) usage_ = usage_of(um);
  if (!started_) {
    started_ = true;
    Usage first = usage_;
    first.output_tokens = 0;
    out += detail::sse_event(
        "message_start",
        "{\"type\":\"message_start\",\"message\":{\"id\":" + quoted(id_) +
            ",\"type\":\"message\",\"role\":\"assistant\",\"model\":" + quoted(ctx_.model) +
            ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":" +
            usage_json(first) + "}}");
  }
  if (const Value* pf = field(g, "promptFeedback"); pf && pf->IsObject()) {
    if (const Value* br = field(*pf, "blockReason"); br && br->IsString()) block_reason_ = sv(*br);
  }
  const Value* cands = field(g, "candidates");
  if (cands && cands->IsArray() && !cands->Empty() && (*cands)[0].IsObject()) {
    const Value& c = (*cands)[0];
    const Value* content = field(c, "content");
    const Value* parts = content && content->IsObject() ? field(*content, "parts") : nullptr;
    if (parts && parts->IsArray()) {
      for (const Value& p : parts->GetArray()) blocks_.part(p);
    }
    if (const Value* f = field(c, "finishReason"); f && f->IsString()) finish_reason_ = sv(*f);
  }
  out += blocks_.events();
  blocks_.events().clear();
  return true;
}

}  // namespace gemgate::anthropic
