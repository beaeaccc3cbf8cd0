// Internal: what speech and chat audio share — OpenAI voice names → Gemini prebuilt voices, the
// sample rate of Gemini's PCM, and the WAV container written around it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::openai::detail {

// An OpenAI voice (alloy, ash, ballad, coral, echo, fable, onyx, nova, sage, shimmer, verse,
// marin, cedar) → its Gemini prebuilt voice; a Gemini voice name (any case) → its canonical
// spelling; nullopt for anything else.
std::optional<std::string_view> gemini_voice(std::string_view name);

// The OpenAI and Gemini voice names accepted, for error messages.
std::string accepted_voices();

// The `voice` of a request: a string or {"id": string}; an OpenAI 400 naming `param` when it is
// missing, of the wrong type or unknown.
Expected<std::string> read_voice(const Value* voice, const std::string& param);

// generationConfig.speechConfig for `voice`: {"voiceConfig":{"prebuiltVoiceConfig":{"voiceName"}}}.
Value speech_config(std::string_view voice, Alloc& a);

// The sample rate in a Gemini audio MIME type ("audio/L16;codec=pcm;rate=24000"); 24000 when it
// names none.
int pcm_rate(std::string_view mime);

// A 44-byte RIFF/WAVE header for `data_bytes` of 16-bit little-endian mono PCM at `rate` Hz.
std::string wav_header(size_t data_bytes, int rate);

}  // namespace gemgate::openai::detail
