// Reading Gemini's answers: what an upstream outcome says about the pool key that was used.
// The classes decide everything the key pool does (see predecessors.md part 4):
//   key invalid → disable at once; quota → cool down key×model; transient → retry elsewhere
//   and count towards max_failures; client error → return as is, no penalty, no retry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gemgate::keys {

enum class OutcomeKind {
  kSuccess,      // 2xx
  kKeyInvalid,   // 400 API_KEY_INVALID / expired, 401, 403: the key itself is unusable
  kQuota,        // 429 RESOURCE_EXHAUSTED: this key is out of quota for now
  kTransient,    // 5xx, timeout, connection failure: try another key
  kClientError,  // any other 4xx: the request itself is wrong
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::kSuccess;
  int status = 0;
  std::string reason;           // short, for humans and logs: "API_KEY_INVALID", "quota", ...
  std::string kind_name;        // for the error log: "key_invalid", "quota", "upstream_5xx", ...
  int64_t retry_delay_ms = -1;  // RetryInfo.retryDelay when the upstream gave one
};

// Classifies an HTTP answer from Gemini. `body` is the (error) body, possibly empty.
Outcome classify_response(int status, std::string_view body);

// Classifies a transport failure ("connect", "timeout", "reset", "protocol").
Outcome classify_transport_failure(std::string_view failure, std::string_view message);

// Parses a protobuf Duration string such as "37s" or "1.5s" into milliseconds; -1 if malformed.
int64_t parse_duration_ms(std::string_view text);

}  // namespace gemgate::keys
