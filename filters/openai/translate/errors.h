// OpenAI-shaped errors, the Expected<T> type every translator returns, and the mapping of Gemini
// error bodies to OpenAI errors.
//
// Every function of this library that can fail returns Expected<T>: either the value, or an
// OpenAIError that the caller can send to its client as is (status + to_json()). Nothing throws
// across the public API; hostile input yields an error value, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gemgate::openai {

// An error in OpenAI's wire shape: {"error":{"message","type","param","code"}} sent with `status`.
struct OpenAIError {
  int status = 400;                            // HTTP status to answer with
  std::string message;                         // human-readable
  std::string type = "invalid_request_error";  // invalid_request_error, authentication_error, ...
  std::optional<std::string> param;            // the offending field, e.g. "messages[2].role"
  std::optional<std::string> code;             // machine code, e.g. "invalid_api_key"

  // Not part of the JSON body; for the caller's headers and logs.
  std::optional<int64_t> retry_after_ms;  // from Gemini's RetryInfo: send Retry-After (seconds,
                                          // rounded up) and retry-after-ms
  std::string upstream_status;            // Gemini's `status`, e.g. "RESOURCE_EXHAUSTED"
  std::string upstream_reason;            // Gemini's ErrorInfo.reason, e.g. "API_KEY_INVALID"

  // {"error":{"message":...,"type":...,"param":...|null,"code":...|null}}
  std::string to_json() const;
  // The same object framed as one SSE event: "data: {...}\n\n" (used for mid-stream failures).
  std::string to_sse() const;

  // A 400 invalid_request_error naming `param`.
  static OpenAIError invalid(std::string message, std::optional<std::string> param = std::nullopt,
                             std::optional<std::string> code = std::nullopt);
  // A 502 server_error for an upstream reply this library could not make sense of.
  static OpenAIError bad_upstream(std::string message);
};

// Expected<T>: a T or an OpenAIError (a small std::expected stand-in; C++20 has none).
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}            // NOLINT
  Expected(OpenAIError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const OpenAIError& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, OpenAIError> v_;
};

// Maps a Gemini error reply to the OpenAI error a client expects.
//
// `http_status` is the upstream HTTP status; `body` its body, which may be Gemini's
// {"error":{"code","message","status","details"}}, the same wrapped in a one-element array, or
// anything else (an HTML page from a proxy). For an error event inside a 200 stream pass 200: the
// status then comes from the body's own `code`/`status`.
//
// Highlights: API_KEY_INVALID (a Gemini 400) becomes 401 invalid_api_key; 429 becomes
// rate_limit_error with retry_after_ms from RetryInfo (insufficient_quota when the quota limit is
// 0); 404 on a model becomes model_not_found; 5xx become server_error.
OpenAIError translate_gemini_error(int http_status, std::string_view body);

}  // namespace gemgate::openai
