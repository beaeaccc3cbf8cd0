// ChatStreamTranslator: the streaming state machine (see chat_stream.h).
#include "filters/openai/translate/chat_stream.h"

#include <map>
#include <optional>

#include "filters/openai/translate/detail/candidate.h"
#include "filters/openai/translate/detail/scratch.h"
#include "filters/openai/translate/detail/sse_decoder.h"
#include "filters/openai/translate/detail/tool_ids.h"

namespace gemgate::openai {

using detail::Alloc;
using detail::field;
using detail::PartRun;
using detail::sv;
using detail::Value;
using Writer = detail::ScratchWriter::Writer;

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
  std::string head;              // every chunk's opening, up to `"choices":[` (made once)
  detail::CandidateParts parts;  // the current candidate's parts (storage reused)

  // --- output -------------------------------------------------------------------------------
  // Chunks are written straight into the thread's scratch writer; only the rare deltas (images,
  // audio, tool calls, logprobs, the finish chunk's extras) are built as values first.

  // {"id","object","created","model","system_fingerprint","choices":[ — the same in every chunk.
  void make_head() {
    detail::ScratchWriter w;
    Writer& wr = w.writer();
    wr.StartObject();
    wr.Key("id");
    put(wr, meta.id);
    wr.Key("object");
    wr.String("chat.completion.chunk");
    wr.Key("created");
    wr.Int64(meta.created);
    wr.Key("model");
    put(wr, ctx.model);
    wr.Key("system_fingerprint");
    wr.Null();
    wr.Key("choices");
    wr.StartArray();
    head = w.text();
  }

  static void put(Writer& wr, std::string_view s) {
    wr.String(s.data() ? s.data() : "", static_cast<rapidjson::SizeType>(s.size()));
  }

  // Appends one chunk: the head, the choices `write_choices` writes, then "usage" when
  // include_usage is on (null except on the final usage chunk, whose JSON is `final_usage`).
  template <class WriteChoices>
  void emit(std::string& out, WriteChoices&& write_choices, std::string_view final_usage = {}) {
    if (head.empty()) make_head();
    detail::ScratchWriter w;
    write_choices(w);
    out += "data: ";
    out += head;
    out += w.text();
    out += ']';
    if (ctx.include_usage) {
      out += ",\"usage\":";
      out += final_usage.empty() ? std::string_view("null") : final_usage;
    }
    out += "}\n\n";
    started = true;
  }

  // One chunk whose only choice is {index, delta (written by `write_delta`), logprobs,
  // finish_reason[, provider_specific_fields]}.
  template <class WriteDelta>
  void emit_delta(std::string& out, int index, WriteDelta&& write_delta,
                  const Value& logprobs = Value(), std::string_view finish = {},
                  const Value& extra = Value()) {
    emit(out, [&](detail::ScratchWriter& w) {
      Writer& wr = w.writer();
      wr.StartObject();
      wr.Key("index");
      wr.Int(index);
      wr.Key("delta");
      write_delta(wr);
      wr.Key("logprobs");
      logprobs.Accept(wr);
      wr.Key("finish_reason");
      if (finish.empty()) {
        wr.Null();
      } else {
        put(wr, finish);
      }
      if (!extra.IsNull()) {
        wr.Key("provider_specific_fields");
        extra.Accept(wr);
      }
      wr.EndObject();
    });
  }

  // A delta that is one string member: {"<key>":"<text>"}.
  void emit_text(std::string& out, int index, const char* key, std::string_view text,
                 const Value& logprobs = Value()) {
    emit_delta(
        out, index,
        [&](Writer& wr) {
          wr.StartObject();
          wr.Key(key);
          put(wr, text);
          wr.EndObject();
        },
        logprobs);
  }

  // A delta built as a value.
  void emit_value(std::string& out, int index, const Value& delta) {
    emit_delta(out, index, [&](Writer& wr) { delta.Accept(wr); });
  }

  ChoiceState& choice(int index, std::string& out) {
    ChoiceState& c = choices[index];
    if (!c.role_sent) {
      c.role_sent = true;
      emit_delta(out, index, [](Writer& wr) {
        wr.StartObject();
        wr.Key("role");
        wr.String("assistant");
        wr.Key("content");
        wr.String("");
        wr.EndObject();
      });
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
    detail::Scratch scratch;            // the event's DOM and every value built from it
    detail::ScratchDocument& ev = scratch.doc();
    std::string err;
    if (!detail::parse_json_in_place(data, ev, &err) || !ev.IsObject()) {
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
      on_candidate(cand, index, out, scratch.allocator());
    }
    return true;
  }

  void on_candidate(const Value& cand, int index, std::string& out, Alloc& a) {
    ChoiceState& c = choice(index, out);
    detail::read_parts(cand, parts);
    Value logprobs = ctx.logprobs ? detail::logprobs_json(cand, a) : Value();
    for (const PartRun& run : parts.runs) {
      if (run.kind == PartRun::Kind::kThought) {
        if (!ctx.include_reasoning) continue;
        emit_text(out, index, "reasoning_content", run.text());
      } else if (run.kind == PartRun::Kind::kText) {
        emit_text(out, index, "content", run.text(), logprobs);  // logprobs go once
        logprobs.SetNull();
      } else {
        emit_value(out, index, other_delta(run, c, a));
      }
    }
    parts.runs.clear();  // its views point into the event's document
    if (const Value* fr = field(cand, "finishReason"); fr && fr->IsString()) {
      c.native_finish = sv(*fr);
    }
    if (const Value* fm = field(cand, "finishMessage"); fm && fm->IsString()) {
      c.finish_message = sv(*fm);
    }
  }

  // The delta of an image, audio or function call run.
  Value other_delta(const PartRun& run, ChoiceState& c, Alloc& a) {
    Value delta(rapidjson::kObjectType);
    if (run.kind == PartRun::Kind::kImage) {
      Value images(rapidjson::kArrayType);
      images.PushBack(detail::image_json(run, c.next_image_index++, a), a);
      detail::add(delta, "images", std::move(images), a);
    } else if (run.kind == PartRun::Kind::kAudio) {
      Value audio(rapidjson::kObjectType);
      detail::add(audio, "id", "audio_" + meta.id, a);
      detail::add(audio, "data", run.data, a);
      detail::add(delta, "audio", std::move(audio), a);
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
    }
    return delta;
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
      detail::Scratch scratch;
      std::string_view reason =
          c.block_reason.empty()
              ? detail::map_finish_reason(c.native_finish, c.saw_call, ctx.legacy_functions)
              : "content_filter";
      Value extra = detail::provider_fields(c.native_finish, c.finish_message, c.block_reason,
                                            scratch.allocator());
      emit_delta(
          out, index,
          [](Writer& wr) {
            wr.StartObject();
            wr.EndObject();
          },
          Value(), reason, extra);
    }
    if (ctx.include_usage) {
      detail::Scratch scratch;
      std::string final_usage = detail::write_json(detail::usage_json(usage, scratch.allocator()));
      emit(
          out, [](detail::ScratchWriter&) {}, final_usage);
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
