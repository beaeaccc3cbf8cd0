// The `openai` filter: OpenAI's API in front, Gemini's behind. Thin glue around the pure
// translator in translate/: it turns `POST /chat/completions`, `POST /embeddings`,
// `POST /images/generations`, `POST /audio/speech`, `GET /models` and `GET /models/{id}` (paths
// as the route leaves them) into Gemini calls,
// downloads linked images first, and turns every answer — JSON, SSE stream or error — back into
// exactly what the official OpenAI SDKs expect. Embeddings larger than one Gemini batch and
// paged model lists become several upstream calls in sequence (FilterCallbacks::rerun_below),
// each with the full key failover of the filters below.
//
// Chain: log → auth (bearer only) → openai → models → retry → keys → upstream, errors: openai.
#pragma once

#include <string>

#include "core/registry.h"

namespace gemgate::openai {

// Read by the chat completions op on each call.
inline constexpr Setting<bool> kIncludeReasoning{"openai_include_reasoning"};
inline constexpr Setting<bool> kFetchPrivateUrls{"openai_fetch_private_urls"};
// Read by the images and speech ops: the Gemini model that serves OpenAI's own model names
// (dall-e-*, gpt-image-* / tts-1*, gpt-*-tts).
inline constexpr Setting<std::string> kImageModel{"openai_image_model"};
inline constexpr Setting<std::string> kSpeechModel{"openai_speech_model"};

// Registers the `openai` filter and the `openai` error format (OpenAI's error shape), and
// declares the settings above.
Result<void> register_openai_filter(Registry& registry);

}  // namespace gemgate::openai
