// The `upstream` filter (terminal): sends the request to Google through the worker's Transport
// and delivers the answer. Streaming calls (`:streamGenerateContent`) are forwarded chunk by chunk
// as they arrive, with backpressure (a slow client pauses the transfer); other answers, and every
// error answer, are read whole first so the filters above can judge and rewrite them. Only an
// allowlist of request headers is forwarded; the pool key travels in `x-goog-api-key`.
//
// Config:
//   base_url: https://generativelanguage.googleapis.com   # required (e.g. ${GOOGLE_API_HOST})
//   max_response_bytes: 32MiB                               # buffered (non-stream) answers
#pragma once

#include "core/registry.h"

namespace gemgate::upstream {

// Registers the `upstream` filter and declares the upstream_* settings. Needs the per-worker
// service transport::Transport at request time.
Result<void> register_upstream_filter(Registry& registry);

}  // namespace gemgate::upstream
