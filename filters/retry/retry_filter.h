// The `retry` filter: the replay point of a chain. It remembers the request as it passes on the
// way down; when an answer comes back marked retriable (by the `keys` filter: a rejected key, a
// quota error, an upstream 5xx or timeout) and nothing has gone to the client yet, it runs the
// filters below it again — each attempt re-created from scratch, so the next one picks another
// key. After `max_retries` attempts in all, the last answer goes to the client as it is.
#pragma once

#include "core/registry.h"

namespace gemgate::retry {

// Upstream attempts per request in all; read by the filter on every retriable answer.
inline constexpr Setting<int64_t> kMaxRetries{"max_retries"};

// Registers the `retry` filter and declares kMaxRetries.
Result<void> register_retry_filter(Registry& registry);

}  // namespace gemgate::retry
