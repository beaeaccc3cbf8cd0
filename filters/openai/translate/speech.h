// OpenAI `POST /v1/audio/speech` → a Gemini TTS model's `:generateContent`, and its 24 kHz
// 16-bit mono PCM answer back into the audio file the client asked for.
//
//   auto plan = plan_speech(body, {.default_model = "gemini-2.5-flash-preview-tts"});
//   if (!plan) return reply(plan.error());
//   auto audio = render_speech(*plan, post(plan->path, plan->body));
//   reply(200, audio->bytes, {"content-type", audio->content_type});
//
// Mapping decisions:
//  * model: an OpenAI TTS model (tts-1, tts-1-hd, gpt-4o*-tts) → `default_model`; any other name
//    is used as it is (a Gemini TTS model).
//  * input (1..4096 characters, OpenAI's limit) is the text spoken; `instructions` become Gemini's
//    style prompt in front of it ("<instructions>:\n<input>").
//  * voice: OpenAI's voice names map to Gemini prebuilt voices (detail/audio.cpp), Gemini voice
//    names are taken as they are (any case); {"id": ...} is read like a name.
//  * response_format: wav (the default here — OpenAI's mp3 needs an encoder the gateway does not
//    have) writes a RIFF header over the PCM; pcm returns the raw samples. mp3, opus, aac and
//    flac → 400 naming the supported formats.
//  * speed: only 1.0 (Gemini has no speed control; ask for it in `instructions`) — others 400.
//    stream_format "sse" → 400 ("audio", the whole file, is what is returned).
#pragma once

#include <string>
#include <string_view>

#include "filters/openai/translate/chat_response.h"
#include "filters/openai/translate/errors.h"

namespace gemgate::openai {

struct SpeechDefaults {
  // The model used when the request names an OpenAI TTS model.
  std::string default_model = "gemini-2.5-flash-preview-tts";
};

struct SpeechPlan {
  std::string model;           // as the client sent it
  std::string upstream_model;  // in the path
  std::string path;            // "/v1beta/models/{model}:generateContent"
  std::string body;            // the Gemini JSON body
  bool wav = true;             // else raw pcm
};

Expected<SpeechPlan> plan_speech(std::string_view openai_body, const SpeechDefaults& defaults = {});

struct SpeechAudio {
  std::string content_type;  // "audio/wav" or "audio/pcm"
  std::string bytes;         // the file
  Usage usage;               // Gemini's token counts
};

// The 2xx generateContent reply → the audio file; a 502 when the reply holds no audio (a
// blocked prompt: 400 content_policy_violation).
Expected<SpeechAudio> render_speech(const SpeechPlan& plan, std::string_view gemini_body);

}  // namespace gemgate::openai
