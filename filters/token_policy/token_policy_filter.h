// The `token_policy` filter: what the client token that authenticated a request may do, once
// the model is known. Placed below the fronts (openai, anthropic, responses) and `models`, and
// above `retry`, it sees a Gemini path naming the model the request will call (after aliases):
//   - a model the token's `models` list does not allow → 403 "model not allowed for this token";
//   - a token over its tpm, daily_tokens or monthly_tokens → 429 with Retry-After, before any
//     upstream call (quotas carry the reason "insufficient_quota" for OpenAI's shape);
//   - models lists leave out the models the token may not use;
//   - at the end, the answer's token usage (streams included) is charged to the token.
// The token's policy comes from auth (TokenPolicySlot); requests without one pass untouched.
//
// Config: none.   - token_policy: {}
#pragma once

#include "core/registry.h"

namespace gemgate::token_policy {

// Registers the `token_policy` filter. Needs the TokenMeter service (shared usage counters).
Result<void> register_token_policy_filter(Registry& registry);

}  // namespace gemgate::token_policy
