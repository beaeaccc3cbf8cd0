// Reading Gemini's answers: what an upstream outcome says about the pool key that was used.
// The classes decide everything the key pool does:
//   key invalid → disable at once; quota → cool down key×model; transient → retry elsewhere
//   and strike the key×model circuit breaker (never disable); unreachable → an upstream outage,
//   no key penalised; client error → return as is, no penalty, no retry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "transports/transport.h"

namespace gemgate::pool {

enum class OutcomeKind {
  kSuccess,      // 2xx
  kKeyInvalid,   // 400 API_KEY_INVALID / expired, 401, 403: the key itself is unusable
  kQuota,        // 429 RESOURCE_EXHAUSTED: this key is out of quota for now
  kTransient,    // 5xx, 408, timeout, reset: says nothing bad about the key; try another
  kUnreachable,  // the upstream could not be reached (connect, DNS, TLS): the key never left
  kClientError,  // any other 4xx: the request itself is wrong
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::kSuccess;
  int status = 0;
  std::string reason;     // short, for humans and logs: "API_KEY_INVALID", "quota", ...
  std::string kind_name;  // for the error log: "key_invalid", "quota", "upstream_5xx", ...
  // Google's own words (error.message), "" when the answer had none. For operator views only
  // (request and error log rows), after redaction: Google may echo the key or request content.
  std::string message;
  int64_t retry_delay_ms = -1;  // RetryInfo.retryDelay when the upstream gave one
};

// Classifies an HTTP answer from Gemini. `body` is the (error) body, possibly empty.
Outcome classify_response(int status, std::string_view body);

// Classifies a transport failure: kConnectFailed is kUnreachable, the rest kTransient. `message`
// is the transport's detail (for logs; it may name the upstream's address).
Outcome classify_transport_failure(transport::FailureKind kind, std::string_view message);

// Parses a protobuf Duration string such as "37s" or "1.5s" into milliseconds; -1 if malformed.
int64_t parse_protobuf_duration_ms(std::string_view text);

}  // namespace gemgate::pool
