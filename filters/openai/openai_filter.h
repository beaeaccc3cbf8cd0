// The `openai` filter: OpenAI's API in front, Gemini's behind. Thin glue around the pure
// translator in translate/: it turns `POST /chat/completions`, `POST /embeddings`,
// `GET /models` and `GET /models/{id}` (paths as the route leaves them) into Gemini calls,
// downloads linked images first, and turns every answer — JSON, SSE stream or error — back into
// exactly what the official OpenAI SDKs expect. Embeddings larger than one Gemini batch and
// paged model lists become several upstream calls in sequence (FilterCallbacks::rerun_below),
// each with the full key failover of the filters below.
//
// Chain: log → auth (bearer only) → openai → models → retry → keys → upstream, errors: openai.
#pragma once

#include "core/registry.h"

namespace gemgate::openai {

// Read by the chat completions op on each call.
inline constexpr Setting<bool> kIncludeReasoning{"openai_include_reasoning"};
inline constexpr Setting<bool> kFetchPrivateUrls{"openai_fetch_private_urls"};

// Registers the `openai` filter and the `openai` error format (OpenAI's error shape), and
// declares the settings above.
Result<void> register_openai_filter(Registry& registry);

}  // namespace gemgate::openai
