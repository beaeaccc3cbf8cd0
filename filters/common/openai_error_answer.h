// OpenAI-shaped error answers as HTTP responses, shared by the two fronts that speak OpenAI's
// error shape (the `openai` chat/embeddings filter and the `responses` filter). The error value
// itself and its JSON come from the pure translation library (filters/openai/translate/errors.h);
// this adds what needs core: the http::Response and answering through the filter callbacks.
#pragma once

#include "core/filter.h"
#include "core/filter_callbacks.h"
#include "core/http/message.h"
#include "filters/openai/translate/errors.h"

namespace gemgate {

// `e` as a whole JSON response with e.status, plus Retry-After (whole seconds, rounded up) and
// retry-after-ms when it carries a retry delay.
http::Response openai_error_response(const openai::OpenAIError& e);

// Records e.message as the exchange's error (log row), answers with openai_error_response(e) and
// returns Stop, so a hook can `return reply_openai_error(x, e)`. Only before the commit point.
Status reply_openai_error(FilterCallbacks& x, const openai::OpenAIError& e);

}  // namespace gemgate
