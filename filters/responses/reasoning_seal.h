// The ReasoningSeal the `responses` filter gives its translator: encrypted_content is
// "ggr1.<hex payload>.<hex HMAC-SHA256>" under a gateway secret, so a client can carry thought
// signatures between stateless calls (store: false) but cannot forge or alter them: anything
// else is ignored by the translator and never reaches Gemini.
#pragma once

#include <string>
#include <string_view>

#include "filters/responses/translate/responses_request.h"

namespace gemgate::responses {

// HMAC-SHA256 of `message` under `key` (RFC 2104), raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

// A seal under `key` (copied into the returned functions).
ReasoningSeal make_reasoning_seal(std::string key);

}  // namespace gemgate::responses
