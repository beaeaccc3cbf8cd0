// The `retry` filter: the replay point of a chain. It remembers the request as it passes on the
// way down; when an answer comes back marked retriable (by the `keys` filter: a rejected key, a
// quota error, an upstream 5xx or timeout) and nothing has gone to the client yet, it runs the
// filters below it again — each attempt re-created from scratch, so the next one picks another
// key. After `max_retries` attempts in all, the last answer goes to the client as it is.
#pragma once

#include "core/registry.h"

namespace gemgate::retry {

// Registers the `retry` filter and declares the `max_retries` setting.
Result<void> register_retry_filter(Registry& registry);

}  // namespace gemgate::retry
