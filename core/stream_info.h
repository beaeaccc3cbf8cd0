// StreamInfo: what happened to one request, filled in by the filters as it moves along and read
// by the log filter at the end (Envoy's StreamInfo). Holds ids, never secrets.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gemgate {

// Token usage as reported by the upstream (Gemini's usageMetadata).
struct TokenUsage {
  int64_t prompt = 0;      // promptTokenCount
  int64_t completion = 0;  // candidatesTokenCount
  int64_t thoughts = 0;    // thoughtsTokenCount
  int64_t cached = 0;      // cachedContentTokenCount
  int64_t total = 0;       // totalTokenCount
  bool known = false;      // true once any usage was seen
};

struct StreamInfo {
  using Clock = std::chrono::steady_clock;

  std::string request_id;  // x-request-id: the client's (when valid) or a new one; on every answer
  std::string route;       // the matched route's prefix
  std::string chain;       // the chain that served it
  std::string method;
  std::string path;         // normalised request path as the client sent it (no query)
  std::string client_addr;  // peer "ip:port"
  std::string model;        // model name once a filter knows it
  int64_t key_id = -1;      // pool key used by the final attempt, -1 if none
  int64_t token_id = -1;    // client token that authenticated, -1 if none
  int attempts = 0;         // upstream attempts made
  int status = 0;           // status sent to the client (499 when the client went away)
  bool stream = false;      // the response was streamed
  // Pool keys whose attempt failed, in attempt order; holds key_id too when the last one failed.
  std::vector<int64_t> failed_key_ids;
  // The key group the token may use ("" = every key): set by auth from the token's policy, read
  // by the keys filter when it picks a key.
  std::string key_group;
  bool client_aborted = false;
  // Set by a filter that reports this request itself in a rate-limited line (refused admin
  // credentials): the log filter then writes no access line, so a flood cannot fill the log.
  bool access_log_suppressed = false;
  std::string error;       // short failure reason for logs (no secrets), "" on success
  std::string error_kind;  // machine-readable class of `error` ("quota", "timeout", ...)
  TokenUsage usage;
  int64_t start_unix_ms = 0;     // wall-clock start, for log rows
  Clock::time_point start;       // monotonic start, for latency
  Clock::time_point end;         // set when the exchange ends
  Clock::time_point first_byte;  // when the response head went to the client (the commit point)
  uint64_t bytes_in = 0;         // request body bytes
  uint64_t bytes_out = 0;        // response body bytes written

  // Milliseconds from start to end (or to now while running).
  int64_t latency_ms() const {
    auto stop = end == Clock::time_point{} ? Clock::now() : end;
    return std::chrono::duration_cast<std::chrono::milliseconds>(stop - start).count();
  }
  // Seconds from start to the response head (time to first byte), or -1 when none went out.
  double first_byte_seconds() const {
    if (first_byte == Clock::time_point{}) return -1;
    return std::chrono::duration<double>(first_byte - start).count();
  }
  // Seconds from start to end (or to now while running).
  double latency_seconds() const {
    auto stop = end == Clock::time_point{} ? Clock::now() : end;
    return std::chrono::duration<double>(stop - start).count();
  }
};

}  // namespace gemgate
