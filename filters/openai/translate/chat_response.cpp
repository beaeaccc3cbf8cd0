// translate_chat_response(): one Gemini GenerateContentResponse → one chat.completion.
#include "filters/openai/translate/chat_response.h"

#include <cstdint>

#include "filters/openai/translate/detail/audio.h"
#include "filters/openai/translate/detail/candidate.h"
#include "filters/openai/translate/detail/media.h"
#include "filters/openai/translate/detail/scratch.h"
#include "filters/openai/translate/detail/tool_ids.h"

namespace gemgate::openai {

using detail::Alloc;
using detail::field;
using detail::PartRun;
using detail::sv;
using detail::Value;

namespace {

Value assistant_message(Alloc& a) {
  Value msg(rapidjson::kObjectType);
  detail::add(msg, "role", "assistant", a);
  return msg;
}

// message.audio for the PCM of one choice.
Value audio_json(const std::string& pcm, int rate, const std::string& transcript,
                 const ChatContext& ctx, const ResponseMeta& meta, Alloc& a) {
  std::string file = ctx.audio_format == "pcm16" ? pcm : detail::wav_header(pcm.size(), rate) + pcm;
  Value out(rapidjson::kObjectType);
  detail::add(out, "id", "audio_" + meta.id, a);
  detail::add(out, "data", detail::base64_encode(file), a);
  detail::add(out, "expires_at", Value(meta.created + 86400), a);
  detail::add(out, "transcript", transcript, a);
  return out;
}

// One candidate → one choice. `next_call` numbers generated tool call ids across the response.
Value choice_of(const Value& cand, int index, const ChatContext& ctx, const ResponseMeta& meta,
                size_t& next_call, Alloc& a) {
  detail::CandidateParts parts = detail::read_parts(cand);
  std::string text, thoughts;
  Value calls(rapidjson::kArrayType);
  Value images(rapidjson::kArrayType);
  std::string pcm;
  int rate = 24000;
  for (const PartRun& run : parts.runs) {
    if (run.kind == PartRun::Kind::kImage) {
      images.PushBack(detail::image_json(run, static_cast<int>(images.Size()), a), a);
    }
    if (run.kind == PartRun::Kind::kAudio) {
      rate = detail::pcm_rate(run.mime);
      pcm += detail::base64_decode_prefix(run.data, SIZE_MAX);
    }
    if (run.kind == PartRun::Kind::kText) text += run.text();
    if (run.kind == PartRun::Kind::kThought) thoughts += run.text();
    if (run.kind == PartRun::Kind::kCall) {
      std::string base = detail::generated_call_id(meta.id, next_call++);
      calls.PushBack(detail::tool_call_json(*run.call, base, run.signature, -1, a), a);
    }
  }
  Value msg = assistant_message(a);
  bool audio = !pcm.empty();
  detail::add(msg, "content", text.empty() || audio ? Value() : detail::str(text, a), a);
  detail::add(msg, "refusal", Value(), a);
  if (audio) detail::add(msg, "audio", audio_json(pcm, rate, text, ctx, meta, a), a);
  if (!images.Empty()) detail::add(msg, "images", std::move(images), a);
  if (ctx.include_reasoning && !thoughts.empty()) {
    detail::add(msg, "reasoning_content", thoughts, a);
  }
  bool has_calls = !calls.Empty();
  if (has_calls && ctx.legacy_functions) {
    // The legacy shape holds one call; Gemini rarely sends several to a `functions` request.
    detail::add(msg, "function_call", Value(calls[0]["function"], a), a);
  } else if (has_calls) {
    detail::add(msg, "tool_calls", std::move(calls), a);
  } else if (!parts.text_signature.empty()) {
    Value google(rapidjson::kObjectType);
    detail::add(google, "thought_signature", parts.text_signature, a);
    Value extra(rapidjson::kObjectType);
    detail::add(extra, "google", std::move(google), a);
    detail::add(msg, "extra_content", std::move(extra), a);
  }

  const Value* fr = field(cand, "finishReason");
  const Value* fm = field(cand, "finishMessage");
  std::string_view native = fr && fr->IsString() ? sv(*fr) : std::string_view();
  std::string_view message = fm && fm->IsString() ? sv(*fm) : std::string_view();

  Value choice(rapidjson::kObjectType);
  detail::add(choice, "index", Value(index), a);
  detail::add(choice, "message", std::move(msg), a);
  detail::add(choice, "finish_reason",
              detail::map_finish_reason(native, has_calls, ctx.legacy_functions), a);
  detail::add(choice, "logprobs", ctx.logprobs ? detail::logprobs_json(cand, a) : Value(), a);
  Value extra = detail::provider_fields(native, message, {}, a);
  if (!extra.IsNull()) detail::add(choice, "provider_specific_fields", std::move(extra), a);
  return choice;
}

// The single content_filter choice of a blocked prompt.
Value blocked_choice(std::string_view block_reason, Alloc& a) {
  Value msg = assistant_message(a);
  detail::add(msg, "content", Value(), a);
  detail::add(msg, "refusal", Value(), a);
  Value choice(rapidjson::kObjectType);
  detail::add(choice, "index", Value(0), a);
  detail::add(choice, "message", std::move(msg), a);
  detail::add(choice, "finish_reason", "content_filter", a);
  detail::add(choice, "logprobs", Value(), a);
  detail::add(choice, "provider_specific_fields", detail::provider_fields({}, {}, block_reason, a),
              a);
  return choice;
}

}  // namespace

Expected<ChatResponse> translate_chat_response(std::string_view gemini_body, const ChatContext& ctx,
                                               const ResponseMeta& meta) {
  detail::Scratch scratch;  // the reply's DOM and the answer's, in this thread's arena
  detail::ScratchDocument& doc = scratch.doc();
  std::string err;
  if (!detail::parse_json_in_place(gemini_body, doc, &err)) {
    return OpenAIError::bad_upstream("The Gemini API sent a reply that is not JSON: " + err + ".");
  }
  if (doc.IsArray() && doc.Size() == 1 && field(doc[0], "error")) {
    return translate_gemini_error(200, gemini_body);
  }
  if (!doc.IsObject()) return OpenAIError::bad_upstream("The Gemini API reply is not an object.");
  if (field(doc, "error")) return translate_gemini_error(200, gemini_body);

  Value out(rapidjson::kObjectType);
  Alloc& a = scratch.allocator();
  Value choices(rapidjson::kArrayType);
  const Value* cands = field(doc, "candidates");
  if (cands && cands->IsArray() && !cands->Empty()) {
    size_t next_call = 0;
    for (rapidjson::SizeType i = 0; i < cands->Size(); ++i) {
      int index = detail::candidate_index((*cands)[i], i);
      if (index < 0 || !(*cands)[i].IsObject()) {
        return OpenAIError::bad_upstream("The Gemini API sent a malformed candidate.");
      }
      choices.PushBack(choice_of((*cands)[i], index, ctx, meta, next_call, a), a);
    }
  } else {
    const Value* feedback = field(doc, "promptFeedback");
    const Value* reason = feedback ? field(*feedback, "blockReason") : nullptr;
    if (!reason || !reason->IsString()) {
      return OpenAIError::bad_upstream(
          "The Gemini API reply has neither candidates nor a prompt block reason.");
    }
    choices.PushBack(blocked_choice(sv(*reason), a), a);
  }

  ChatResponse res;
  res.usage = detail::usage_from(field(doc, "usageMetadata"));
  detail::add(out, "id", meta.id, a);
  detail::add(out, "object", "chat.completion", a);
  detail::add(out, "created", Value(meta.created), a);
  detail::add(out, "model", ctx.model, a);
  detail::add(out, "choices", std::move(choices), a);
  detail::add(out, "usage", detail::usage_json(res.usage, a), a);
  detail::add(out, "system_fingerprint", Value(), a);
  res.body = detail::write_json(out);
  return res;
}

}  // namespace gemgate::openai
