// translate_output_modalities(): what the client wants back — `modalities` (text, image, audio)
// and `audio: {voice, format}` — as Gemini's responseModalities and speechConfig.
#include "filters/openai/translate/detail/audio.h"
#include "filters/openai/translate/detail/request_parts.h"

namespace gemgate::openai::detail {

namespace {

// `audio: {voice, format}` for a request that asked for audio.
Failure read_audio(const Value& root, Value& config, ChatContext& ctx, Alloc& a) {
  const Value* audio = field(root, "audio");
  if (!audio) {
    return OpenAIError::invalid(
        "Missing required parameter: 'audio'. It is required when "
        "modalities includes \"audio\".",
        "audio", "missing_required_parameter");
  }
  if (!audio->IsObject()) return wrong_type("audio", "an object", *audio);
  auto voice = read_voice(field(*audio, "voice"), "audio.voice");
  if (!voice) return voice.error();
  const Value* format = field(*audio, "format");
  if (!format) return missing_param("audio.format");
  if (!format->IsString()) return wrong_type("audio.format", "a string", *format);
  std::string_view f = sv(*format);
  if (f != "wav" && f != "pcm16") {
    return OpenAIError::invalid("audio.format '" + std::string(f) +
                                    "' is not supported: the gateway has no audio encoder. "
                                    "Supported: wav, pcm16.",
                                "audio.format", "unsupported_value");
  }
  if (ctx.stream && f != "pcm16") {
    return OpenAIError::invalid("A streamed audio answer must use audio.format 'pcm16'.",
                                "audio.format", "unsupported_value");
  }
  ctx.audio_format = f;
  add(config, "speechConfig", speech_config(*voice, a), a);
  return std::nullopt;
}

}  // namespace

Failure translate_output_modalities(const Value& root, RequestState& st, Value& config,
                                    ChatContext& ctx) {
  const Value* modalities = field(root, "modalities");
  if (!modalities) return std::nullopt;
  if (!modalities->IsArray()) return wrong_type("modalities", "an array", *modalities);
  bool text = false, image = false, audio = false;
  for (rapidjson::SizeType i = 0; i < modalities->Size(); ++i) {
    const Value& m = (*modalities)[i];
    std::string param = join("modalities", i);
    if (!m.IsString()) return wrong_type(param, "a string", m);
    std::string_view name = sv(m);
    if (name == "text") {
      text = true;
    } else if (name == "image") {
      image = true;
    } else if (name == "audio") {
      audio = true;
    } else {
      return bad_value(param, "use \"text\", \"audio\" or \"image\".");
    }
  }
  if (audio && image) {
    return OpenAIError::invalid("Gemini cannot answer audio and images in one call.", "modalities",
                                "unsupported_value");
  }
  if (!audio && !image) return std::nullopt;  // text alone: Gemini's default
  Alloc& a = st.a;
  if (!config.IsObject()) config.SetObject();
  Value out(rapidjson::kArrayType);
  if (audio) {
    out.PushBack("AUDIO", a);  // TTS models refuse TEXT next to AUDIO
    if (auto f = read_audio(root, config, ctx, a)) return f;
  } else {
    if (text) out.PushBack("TEXT", a);
    out.PushBack("IMAGE", a);
  }
  add(config, "responseModalities", std::move(out), a);
  return std::nullopt;
}

}  // namespace gemgate::openai::detail
