// The `anthropic` filter: Anthropic's Messages API in front, Gemini's behind. Thin glue around the
// pure translator in translate/: `POST /messages` (→ generateContent or streamGenerateContent),
// `POST /messages/count_tokens` (→ countTokens), `GET /models` and `GET /models/{id}` (paths as
// the route leaves them). Linked image/document URLs are downloaded first (MediaFetcher). Every
// error reaches the client in Anthropic's shape (the chain's `errors: anthropic`).
//
// Chain: log → auth (x_api_key, bearer) → anthropic → models → retry → keys → upstream.
#pragma once

#include "core/registry.h"

namespace gemgate::anthropic {

// Read by the messages op on each call.
inline constexpr Setting<bool> kFetchPrivateUrls{"anthropic_fetch_private_urls"};

// Registers the `anthropic` filter and the `anthropic` error format, and declares the setting.
Result<void> register_anthropic_filter(Registry& registry);

}  // namespace gemgate::anthropic
