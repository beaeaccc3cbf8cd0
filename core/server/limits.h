// ServerLimits: the bounds the downstream HTTP server enforces on every connection. Defaults
// follow /work/shared/reference/hardening.md §0 (nginx/Envoy practice for an edge proxy).
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
  uint64_t keepalive_timeout_ms = 60'000;       // idle between requests → close
  uint64_t write_timeout_ms = 60'000;          // no write progress while output is queued → close
  size_t max_connections = 10'000;             // across all workers; beyond: closed at once
  size_t max_requests_per_connection = 1'000;  // then "connection: close"
  size_t write_high_watermark = 256 * 1024;    // pause the upstream above this backlog
  size_t write_low_watermark = 64 * 1024;      // resume it below this
  size_t max_pipelined_bytes = 64 * 1024;      // read-ahead buffered while a request runs
  uint64_t linger_ms = 2'000;                  // drain input after an error reply before close
};

}  // namespace gemgate::server
