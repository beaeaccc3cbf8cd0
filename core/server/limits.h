// ServerLimits: the bounds the downstream HTTP server enforces on every connection. Defaults
// follow nginx/Envoy practice for an edge proxy.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gemgate::server {

struct ServerLimits {
  size_t max_url_bytes = 8 * 1024;              // request target → 414
  size_t max_header_bytes = 32 * 1024;          // request line + header fields → 431
  size_t max_headers = 100;                     // header field count → 431
  size_t max_body_bytes = 16 * 1024 * 1024;     // → 413 (before reading when CL is known)
  size_t max_chunk_extension_bytes = 4 * 1024;  // per chunk → 400
  uint64_t head_timeout_ms = 10'000;            // first byte to end of head → 408
  uint64_t body_timeout_ms = 30'000;            // longest gap while reading a body → 408
  // A body must arrive at min_body_rate bytes/s at least, measured over each successive window
  // of body_rate_window_ms (the first window is the grace period of a slow start) → 408. So a
  // client trickling a byte now and then cannot hold a connection (and its buffered body) for
  // long. Apache's mod_reqtimeout does the same (MinRate=500); 0 turns the check off.
  size_t min_body_rate = 1024;
  uint64_t body_rate_window_ms = 10'000;
  // From the first byte of a request to the last byte of its body → 408. The answer (a stream
  // may last many minutes) is not part of it, unlike Envoy's request_timeout.
  uint64_t request_timeout_ms = 300'000;
  // Request bodies buffered at once, across every connection and worker: a request whose body
  // would take the sum over it gets 503 + Retry-After, so many large uploads together cannot
  // take the process' memory (Envoy's overload manager plays this part there).
  size_t max_buffered_body_bytes = 256 * 1024 * 1024;
  uint64_t keepalive_timeout_ms = 60'000;  // idle between requests → close
  uint64_t write_timeout_ms = 60'000;      // no write progress while output is queued → close
  // Across all workers. Beyond it a new connection takes the place of the accepting worker's
  // longest-idle keep-alive connection, or is answered 503 + Retry-After and closed.
  size_t max_connections = 10'000;
  size_t max_requests_per_connection = 1'000;  // then "connection: close"
  size_t write_high_watermark = 256 * 1024;    // pause the upstream above this backlog
  size_t write_low_watermark = 64 * 1024;      // resume it below this
  size_t max_pipelined_bytes = 64 * 1024;      // read-ahead buffered while a request runs
  uint64_t linger_ms = 2'000;                  // drain input after an error reply before close
};

}  // namespace gemgate::server
