// Request and Response: one HTTP exchange as filters see it. Bodies are whole strings: every stage
// of an AI gateway needs the complete JSON, and the buffer doubles as the retry copy. The one
// exception is a route that streams request bodies (`stream_body: true`): there `body` stays
// empty and `body_stream` delivers the body while the request runs (core/http/body_source.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/http/body_source.h"
#include "core/http/headers.h"

namespace gemgate::http {

struct Request {
  std::string method;     // "GET", "POST", ...
  std::string path;       // normalised path, no query (see normalize_path)
  std::string query;      // raw query string without '?', may be empty
  int version_minor = 1;  // HTTP/1.<minor>
  HeaderMap headers;
  std::string body;
  // Set on a streamed-body route when the request has a body: it arrives through this source
  // while the request path runs, and `body` stays empty. Filters there decide from the head.
  std::shared_ptr<BodySource> body_stream;

  // True when the body is streamed (see body_stream) rather than held in `body`.
  bool body_streamed() const { return body_stream != nullptr; }

  // Returns the decoded value of the first query parameter `name`, if any.
  std::optional<std::string> query_param(std::string_view name) const;
  // Removes every query parameter named `name`; returns true when one was present.
  bool remove_query_param(std::string_view name);
  // Returns path + ("?" + query when non-empty): the target to send upstream.
  std::string target() const;
};

// A reply produced inside gemgate rather than received from upstream. It stays neutral (status,
// machine code, message) until the response leaves the chain, where the route's error format
// renders it in the dialect its clients parse (registered by the composition root).
struct LocalError {
  int status = 500;
  std::string code;     // machine-readable, e.g. "UNAUTHENTICATED", "RESOURCE_EXHAUSTED"
  std::string message;  // for humans; never contains a secret
  std::string param;    // the offending field, when one is known (OpenAI's `param`)
  // A finer machine reason within `code`, for dialects that tell them apart (OpenAI's
  // "insufficient_quota" vs a rate limit, both RESOURCE_EXHAUSTED); "" when none.
  std::string reason = {};
};

struct Response {
  int status = 0;
  HeaderMap headers;
  std::string body;                       // buffered body (error bodies, local replies)
  std::optional<LocalError> local_error;  // set for local replies until rendered
  bool streaming = false;                 // body follows through on_response_data
  // Set by a filter that judged this response a failure another attempt may fix (Pingora puts
  // the retry decision in the error value); a replay point above may act on it.
  bool retriable = false;
};

// Returns the standard reason phrase for an HTTP status ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

// Decodes %XX escapes. Returns nullopt on a malformed escape. `plus_is_space` decodes '+' as ' '
// (form/query style).
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

// Normalises a request path for routing: decodes escapes of unreserved characters, merges
// repeated slashes and resolves "." and ".." segments. Returns nullopt when the path is not
// absolute, contains an encoded '/', '\\' or NUL, or climbs above the root — such requests are
// refused rather than guessed at, so no prefix check can be bypassed.
std::optional<std::string> normalize_path(std::string_view raw_path);

}  // namespace gemgate::http
