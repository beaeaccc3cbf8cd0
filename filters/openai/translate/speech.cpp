// plan_speech() and render_speech(): OpenAI text to speech ⇄ a Gemini TTS model (see speech.h).
#include "filters/openai/translate/speech.h"

#include <cstdint>

#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/detail/audio.h"
#include "filters/openai/translate/detail/candidate.h"
#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/detail/media.h"

namespace gemgate::openai {

using detail::Alloc;
using detail::Document;
using detail::field;
using detail::sv;
using detail::Value;

namespace {

constexpr size_t kMaxInputChars = 4096;

bool is_openai_tts_model(std::string_view m) {
  return m == "tts-1" || m == "tts-1-hd" || (m.starts_with("gpt-") && m.ends_with("-tts"));
}

size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

Expected<bool> read_format(const Value& root, SpeechPlan& plan) {
  if (const Value* f = field(root, "response_format")) {
    if (!f->IsString()) return detail::wrong_type("response_format", "a string", *f);
    std::string_view format = sv(*f);
    if (format == "pcm") {
      plan.wav = false;
    } else if (format != "wav") {
      return OpenAIError::invalid("response_format '" + detail::echo(format) +
                                      "' is not supported: the gateway has no audio encoder. "
                                      "Supported: wav (the default here), pcm (24 kHz 16-bit "
                                      "mono little-endian).",
                                  "response_format", "unsupported_value");
    }
  }
  if (const Value* speed = field(root, "speed")) {
    if (!speed->IsNumber()) return detail::wrong_type("speed", "a number", *speed);
    if (speed->GetDouble() != 1.0) {
      return OpenAIError::invalid(
          "'speed' other than 1.0 is not supported by Gemini's TTS "
          "models; ask for it in 'instructions' (e.g. \"Speak "
          "quickly\").",
          "speed", "unsupported_value");
    }
  }
  if (const Value* sf = field(root, "stream_format")) {
    if (!sf->IsString() || sv(*sf) != "audio") {
      return OpenAIError::invalid("Only stream_format 'audio' is supported (the whole file).",
                                  "stream_format", "unsupported_value");
    }
  }
  return true;
}

}  // namespace

Expected<SpeechPlan> plan_speech(std::string_view openai_body, const SpeechDefaults& defaults) {
  Document doc;
  if (auto ok = detail::parse_request_body(openai_body, doc); !ok) return ok.error();
  SpeechPlan plan;
  const Value* model = field(doc, "model");
  if (!model) return detail::missing_param("model");
  if (!model->IsString()) return detail::wrong_type("model", "a string", *model);
  plan.model = sv(*model);
  auto upstream =
      upstream_model_name(is_openai_tts_model(plan.model) ? defaults.default_model : plan.model);
  if (!upstream) return upstream.error();
  plan.upstream_model = std::move(*upstream);

  const Value* input = field(doc, "input");
  if (!input) return detail::missing_param("input");
  if (!input->IsString()) return detail::wrong_type("input", "a string", *input);
  size_t chars = utf8_chars(sv(*input));
  if (chars == 0)
    return OpenAIError::invalid("Invalid 'input': empty string.", "input", "empty_string");
  if (chars > kMaxInputChars) {
    return detail::bad_value("input",
                             "at most 4096 characters, got " + std::to_string(chars) + ".");
  }
  auto voice = detail::read_voice(field(doc, "voice"), "voice");
  if (!voice) return voice.error();
  std::string text(sv(*input));
  if (const Value* ins = field(doc, "instructions")) {
    if (!ins->IsString()) return detail::wrong_type("instructions", "a string", *ins);
    std::string style(sv(*ins));
    while (!style.empty() && (style.back() == ' ' || style.back() == '\n')) style.pop_back();
    if (!style.empty()) text = style + (style.back() == ':' ? "\n" : ":\n") + text;
  }
  if (auto ok = read_format(doc, plan); !ok) return ok.error();

  Document gem(rapidjson::kObjectType);
  Alloc& a = gem.GetAllocator();
  Value contents = detail::user_text_contents(text, a);
  Value modalities(rapidjson::kArrayType);
  modalities.PushBack("AUDIO", a);
  Value config(rapidjson::kObjectType);
  detail::add(config, "responseModalities", std::move(modalities), a);
  detail::add(config, "speechConfig", detail::speech_config(*voice, a), a);
  detail::add(gem, "contents", std::move(contents), a);
  detail::add(gem, "generationConfig", std::move(config), a);
  plan.path = "/v1beta/models/" + plan.upstream_model + ":generateContent";
  plan.body = detail::write_json(gem);
  return plan;
}

Expected<SpeechAudio> render_speech(const SpeechPlan& plan, std::string_view gemini_body) {
  Document doc;
  std::string err;
  if (!detail::parse_json(gemini_body, doc, &err) || !doc.IsObject()) {
    return OpenAIError::bad_upstream(
        "The Gemini API sent a speech reply that is not a JSON "
        "object.");
  }
  if (field(doc, "error")) return translate_gemini_error(200, gemini_body);
  SpeechAudio out;
  out.usage = detail::usage_from(field(doc, "usageMetadata"));
  std::string pcm;
  int rate = 24000;
  const Value* cands = field(doc, "candidates");
  if (cands && cands->IsArray() && !cands->Empty()) {
    detail::CandidateParts parts = detail::read_parts((*cands)[0]);
    for (const detail::PartRun& run : parts.runs) {
      if (run.kind != detail::PartRun::Kind::kAudio) continue;
      if (!detail::is_whole_base64(run.data)) {
        return OpenAIError::bad_upstream("The Gemini TTS model sent audio that is not base64.");
      }
      rate = detail::pcm_rate(run.mime);
      pcm += detail::base64_decode_prefix(run.data, SIZE_MAX);
    }
  }
  if (pcm.empty()) {
    const Value* fb = field(doc, "promptFeedback");
    if (fb && field(*fb, "blockReason")) {
      return OpenAIError::invalid("The input was blocked by Gemini's safety filters.", "input",
                                  "content_policy_violation");
    }
    return OpenAIError::bad_upstream("The Gemini TTS model answered without audio.");
  }
  if (pcm.size() > 0xFFFFFF00u) return OpenAIError::bad_upstream("The audio is too large for WAV.");
  if (plan.wav) {
    out.content_type = "audio/wav";
    out.bytes = detail::wav_header(pcm.size(), rate);
    out.bytes += pcm;
  } else {
    out.content_type = "audio/pcm";
    out.bytes = std::move(pcm);
  }
  return out;
}

}  // namespace gemgate::openai
