// The `responses` filter: the OpenAI Responses API in front, Gemini behind. Thin glue around
// the pure translator in translate/: `POST /responses` becomes generateContent (or
// streamGenerateContent when the client streams), and `GET /responses/{id}`,
// `DELETE /responses/{id}` and `GET /responses/{id}/input_items` are answered from the stored
// responses (the DocumentStore service of core/document_store.h; paths as the route leaves them).
//
// Chain: log → auth (bearer only) → responses → models → retry → keys → upstream, errors: openai
// (OpenAI's error shape, as the chat route).
#pragma once

#include "core/registry.h"

namespace gemgate::responses {

// How long a stored response (store: true) is kept, in seconds. Read when a response is saved.
inline constexpr Setting<int64_t> kStoreTtlS{"responses_store_ttl_s"};
// Allow media URLs on local/private addresses (off: the gateway never reads its own network).
inline constexpr Setting<bool> kFetchPrivateUrls{"responses_fetch_private_urls"};

// Largest stored record (a response with its whole conversation). A conversation that grows
// beyond it is refused with a 400 before the upstream call, naming previous_response_id.
inline constexpr size_t kMaxStoredBytes = 8u << 20;

// Registers the `responses` filter and declares the settings above.
Result<void> register_responses_filter(Registry& registry);

}  // namespace gemgate::responses
