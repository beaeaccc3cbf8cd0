// ChatStreamTranslator: the streaming state machine (see chat_stream.h).
#include "filters/openai/translate/chat_stream.h"

#include <map>
#include <optional>

#include "filters/openai/translate/detail/candidate.h"
#include "filters/openai/translate/detail/sse_decoder.h"
#include "filters/openai/translate/detail/tool_ids.h"

namespace gemgate::openai {

using detail::Alloc;
using detail::Document;
using detail::field;
using detail::PartRun;
using detail::sv;
using detail::Value;

namespace {

struct ChoiceState {
  bool role_sent = false;
  int next_tool_index = 0;   // position in this choice's tool_calls, across the whole stream
  int next_image_index = 0;  // position in this choice's images, across the whole stream
  bool saw_call = false;
  std::string native_finish;  // Gemini's finishReason, once seen
  std::string finish_message;
  std::string block_reason;
};

}  // namespace

struct ChatStreamTranslator::State {
  State(ChatContext c, ResponseMeta m, size_t max_event)
      : ctx(std::move(c)), meta(std::move(m)), decoder(max_event) {}

  ChatContext ctx;
  ResponseMeta meta;
  detail::SseDecoder decoder;
  std::map<int, ChoiceState> choices;  // by choice index, so finish() emits them in order
  Usage usage;
  size_t next_call = 0;  // numbers generated tool call ids across the stream
  bool any_event = false;
  bool started = false;
  bool done = false;
  bool failed = false;
  std::optional<OpenAIError> error;

  // --- output -------------------------------------------------------------------------------

  // Appends one chunk: the envelope around `choices`, plus "usage" when include_usage is on
  // (null except on the final usage chunk).
  void emit(std::string& out, Document& d, Value choices, const Usage* final_usage) {
    Alloc& a = d.GetAllocator();
    d.SetObject();
    detail::add(d, "id", meta.id, a);
    detail::add(d, "object", "chat.completion.chunk", a);
    detail::add(d, "created", Value(meta.created), a);
    detail::add(d, "model", ctx.model, a);
    detail::add(d, "system_fingerprint", Value(), a);
    detail::add(d, "choices", std::move(choices), a);
    if (ctx.include_usage) {
      detail::add(d, "usage", final_usage ? detail::usage_json(*final_usage, a) : Value(), a);
    }
    out += "data: ";
    out += detail::write_json(d);
    out += "\n\n";
    started = true;
  }

  void emit_delta(std::string& out, int index, Value delta, Value logprobs = Value(),
                  std::string_view finish = {}, Value extra = Value()) {
    Document d;
    Alloc& a = d.GetAllocator();
    Value choice(rapidjson::kObjectType);
    detail::add(choice, "index", Value(index), a);
    detail::add(choice, "delta", Value(delta, a), a);
    detail::add(choice, "logprobs", Value(logprobs, a), a);
    detail::add(choice, "finish_reason", finish.empty() ? Value() : detail::str(finish, a), a);
    if (!extra.IsNull()) detail::add(choice, "provider_specific_fields", Value(extra, a), a);
    Value choices(rapidjson::kArrayType);
    choices.PushBack(std::move(choice), a);
    emit(out, d, std::move(choices), nullptr);
  }

  ChoiceState& choice(int index, std::string& out) {
    ChoiceState& c = choices[index];
    if (!c.role_sent) {
      c.role_sent = true;
      Document d;
      Value delta(rapidjson::kObjectType);
      detail::add(delta, "role", "assistant", d.GetAllocator());
      detail::add(delta, "content", "", d.GetAllocator());
      emit_delta(out, index, std::move(delta));
    }
    return c;
  }

  void fail_with(const OpenAIError& e, std::string& out) {
    out += e.to_sse();
    error = e;
    done = failed = true;
  }

  // --- input --------------------------------------------------------------------------------

  // One decoded SSE event. Returns false when the stream ended (error).
  bool on_event(std::string_view data, std::string& out) {
    if (data == "[DONE]") return true;  // Gemini sends none; tolerate a proxy that adds one
    Document ev;
    std::string err;
    if (!detail::parse_json(data, ev, &err) || !ev.IsObject()) {
      fail_with(OpenAIError::bad_upstream("The Gemini stream sent an event that is not a JSON "
                                          "object."),
                out);
      return false;
    }
    if (field(ev, "error")) {
      fail_with(translate_gemini_error(200, data), out);
      return false;
    }
    any_event = true;
    if (const Value* um = field(ev, "usageMetadata")) usage = detail::usage_from(um);

    const Value* cands = field(ev, "candidates");
    if (!cands || !cands->IsArray() || cands->Empty()) {
      const Value* fb = field(ev, "promptFeedback");
      const Value* reason = fb ? field(*fb, "blockReason") : nullptr;
      if (reason && reason->IsString()) choice(0, out).block_reason = sv(*reason);
      return true;
    }
    for (rapidjson::SizeType i = 0; i < cands->Size(); ++i) {
      const Value& cand = (*cands)[i];
      int index = detail::candidate_index(cand, i);
      if (index < 0 || !cand.IsObject()) {
        fail_with(OpenAIError::bad_upstream("The Gemini stream sent a malformed candidate."), out);
        return false;
      }
      on_candidate(cand, index, out);
    }
    return true;
  }

  void on_candidate(const Value& cand, int index, std::string& out) {
    ChoiceState& c = choice(index, out);
    detail::CandidateParts parts = detail::read_parts(cand);
    Document d;
    Alloc& a = d.GetAllocator();
    Value logprobs = ctx.logprobs ? detail::logprobs_json(cand, a) : Value();
    for (const PartRun& run : parts.runs) {
      Value delta(rapidjson::kObjectType);
      if (run.kind == PartRun::Kind::kThought) {
        if (!ctx.include_reasoning) continue;
        detail::add(delta, "reasoning_content", run.text, a);
        emit_delta(out, index, std::move(delta));
      } else if (run.kind == PartRun::Kind::kImage) {
        Value images(rapidjson::kArrayType);
        images.PushBack(detail::image_json(run, c.next_image_index++, a), a);
        detail::add(delta, "images", std::move(images), a);
        emit_delta(out, index, std::move(delta));
      } else if (run.kind == PartRun::Kind::kAudio) {
        Value audio(rapidjson::kObjectType);
        detail::add(audio, "id", "audio_" + meta.id, a);
        detail::add(audio, "data", run.data, a);
        detail::add(delta, "audio", std::move(audio), a);
        emit_delta(out, index, std::move(delta));
      } else if (run.kind == PartRun::Kind::kText) {
        detail::add(delta, "content", run.text, a);
        emit_delta(out, index, std::move(delta), std::move(logprobs));  // logprobs go once
        logprobs.SetNull();
      } else {
        std::string base = detail::generated_call_id(meta.id, next_call++);
        c.saw_call = true;
        if (ctx.legacy_functions) {
          detail::add(delta, "function_call", detail::function_call_json(*run.call, a), a);
        } else {
          Value calls(rapidjson::kArrayType);
          calls.PushBack(
              detail::tool_call_json(*run.call, base, run.signature, c.next_tool_index++, a), a);
          detail::add(delta, "tool_calls", std::move(calls), a);
        }
        emit_delta(out, index, std::move(delta));
      }
    }
    if (const Value* fr = field(cand, "finishReason"); fr && fr->IsString()) {
      c.native_finish = sv(*fr);
    }
    if (const Value* fm = field(cand, "finishMessage"); fm && fm->IsString()) {
      c.finish_message = sv(*fm);
    }
  }

  void feed(std::string_view bytes, std::string& out) {
    if (done) return;
    auto status = decoder.feed(bytes, [&](std::string_view ev) { return on_event(ev, out); });
    too_large_check(status, out);
  }

  void too_large_check(detail::SseDecoder::Status status, std::string& out) {
    if (status == detail::SseDecoder::Status::kTooLarge && !done) {
      fail_with(OpenAIError::bad_upstream("The Gemini stream sent an event larger than the limit."),
                out);
    }
  }

  void finish(std::string& out) {
    if (done) return;
    auto status = decoder.finish([&](std::string_view ev) { return on_event(ev, out); });
    too_large_check(status, out);
    if (done) return;
    if (!any_event) {
      fail_with(OpenAIError::bad_upstream("The Gemini stream ended without sending anything."),
                out);
      return;
    }
    for (auto& [index, c] : choices) {
      choice(index, out);
      Document d;
      Alloc& a = d.GetAllocator();
      std::string_view reason =
          c.block_reason.empty()
              ? detail::map_finish_reason(c.native_finish, c.saw_call, ctx.legacy_functions)
              : "content_filter";
      emit_delta(out, index, Value(rapidjson::kObjectType), Value(), reason,
                 detail::provider_fields(c.native_finish, c.finish_message, c.block_reason, a));
    }
    if (ctx.include_usage) {
      Document d;
      emit(out, d, Value(rapidjson::kArrayType), &usage);
    }
    out += "data: [DONE]\n\n";
    done = true;
  }
};

ChatStreamTranslator::ChatStreamTranslator(ChatContext ctx, ResponseMeta meta,
                                           size_t max_event_bytes)
    : s_(std::make_unique<State>(std::move(ctx), std::move(meta), max_event_bytes)) {}
ChatStreamTranslator::~ChatStreamTranslator() = default;
ChatStreamTranslator::ChatStreamTranslator(ChatStreamTranslator&&) noexcept = default;
ChatStreamTranslator& ChatStreamTranslator::operator=(ChatStreamTranslator&&) noexcept = default;

void ChatStreamTranslator::feed(std::string_view bytes, std::string& out) {
  s_->feed(bytes, out);
}
void ChatStreamTranslator::finish(std::string& out) {
  s_->finish(out);
}
void ChatStreamTranslator::fail(const OpenAIError& error, std::string& out) {
  if (!s_->done) s_->fail_with(error, out);
}
bool ChatStreamTranslator::done() const {
  return s_->done;
}
bool ChatStreamTranslator::failed() const {
  return s_->failed;
}
bool ChatStreamTranslator::started() const {
  return s_->started;
}
const OpenAIError* ChatStreamTranslator::error() const {
  return s_->error ? &*s_->error : nullptr;
}
const Usage& ChatStreamTranslator::usage() const {
  return s_->usage;
}

}  // namespace gemgate::openai
