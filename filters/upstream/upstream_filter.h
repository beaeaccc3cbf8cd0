// The `upstream` filter (terminal): sends the request to Google through the worker's Transport
// and delivers the answer. Streaming calls (`:streamGenerateContent`) are forwarded chunk by chunk
// as they arrive, with backpressure (a slow client pauses the transfer); other answers, and every
// error answer, are read whole first so the filters above can judge and rewrite them. Only an
// allowlist of request headers is forwarded; the pool key travels in `x-goog-api-key`.
//
// Config:
//   base_url: https://generativelanguage.googleapis.com   # required (e.g. ${GOOGLE_API_HOST})
//   max_response_bytes: 32MiB                               # buffered (non-stream) answers
//   forward_upload_headers: false   # x-goog-upload-* both ways (the upload chain, below `files`)
#pragma once

#include "core/registry.h"

namespace gemgate::upstream {

// Deadlines of every upstream call, read when it starts.
inline constexpr Setting<int64_t> kConnectTimeoutMs{"upstream_connect_timeout_ms"};
inline constexpr Setting<int64_t> kFirstByteTimeoutMs{"upstream_first_byte_timeout_ms"};
inline constexpr Setting<int64_t> kIdleTimeoutMs{"upstream_idle_timeout_ms"};
inline constexpr Setting<int64_t> kTotalTimeoutMs{"upstream_total_timeout_ms"};  // non-streaming
// How gemgate reaches Google: also read by the key health check, which probes the same upstream.
inline constexpr Setting<std::string> kProxy{"upstream_proxy"};         // "" = direct
inline constexpr Setting<JsonValue> kExtraHeaders{"upstream_headers"};  // {"name": "value"}

// Registers the `upstream` filter and declares the settings above. Needs the per-worker service
// transport::Transport at request time.
Result<void> register_upstream_filter(Registry& registry);

}  // namespace gemgate::upstream
