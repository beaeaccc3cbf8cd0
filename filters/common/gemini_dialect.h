// What is Gemini's own in the gateway's shared machinery, handed to core by the composition root
// (conf/) so core knows nothing of Gemini: Google's error body as the "google" error dialect (the
// default of chains that name none), and what Gemini's secrets look like to the log redactor.
#pragma once

#include <string>

#include "core/http/message.h"
#include "core/registry.h"
#include "core/result.h"

namespace gemgate::gemini {

// Google's API error body (google.rpc.Status as JSON), what Gemini clients and SDKs parse:
// {"error":{"code":<status>,"message":"...","status":"<CODE>"}}, "UNKNOWN" when `error.code` is
// empty. `error.param` is not shown: Google's shape has no place for it.
std::string render_google_error(const http::LocalError& error);

// Registers render_google_error as the "google" error dialect and makes it the default of
// chains without `errors:`. Fails when "google" is registered already.
Result<void> register_google_error_format(Registry& registry);

// Teaches the log redactor Gemini's secrets: API keys start with "AIza", and travel in the
// x-goog-api-key header (so the word after that label is masked). Process-wide and idempotent;
// call at start, before lines that could carry a key.
void register_gemini_redaction();

}  // namespace gemgate::gemini
