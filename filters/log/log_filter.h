// The `log` filter: put it first in a chain. When the request ends it writes one access line
// to the log (method, path, status, latency, attempts, key id — never a secret) and hands the
// finished request to the LogSink, which stores a request-log row with the token usage.
//
// Config:
//   access_log: true    # write the access line to the log
//   store: true         # store a request-log row (admin traffic sets this false: not API usage)
#pragma once

#include "core/registry.h"

namespace gemgate::logging {

// Registers the `log` filter. Uses the LogSink service when present.
Result<void> register_log_filter(Registry& registry);

}  // namespace gemgate::logging
