// Anthropic-shaped errors, the Expected<T> every translator of this library returns, and the
// mapping of Gemini error bodies (and of HTTP statuses) to Anthropic's error types.
//
// Wire shape: {"type":"error","error":{"type":"invalid_request_error","message":"..."}}, sent with
// the HTTP status Anthropic uses for that type (400, 401, 403, 404, 413, 429, 500, 529). Nothing
// throws across the API: hostile input yields an error value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gemgate::anthropic {

struct AnthropicError {
  int status = 400;                            // HTTP status to answer with
  std::string type = "invalid_request_error";  // see error_type_for_status()
  std::string message;
  std::optional<int64_t> retry_after_ms;  // not in the body: for Retry-After

  // {"type":"error","error":{"type":...,"message":...}}
  std::string to_json() const;
  // The same as one SSE event: "event: error\ndata: {...}\n\n" (failures after message_start).
  std::string to_sse() const;

  // A 400 invalid_request_error.
  static AnthropicError invalid(std::string message);
  // A 502 api_error for an upstream answer this library cannot read.
  static AnthropicError bad_upstream(std::string message);
};

// Anthropic's error type for an HTTP status: 400/405/415/422 invalid_request_error, 401
// authentication_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429
// rate_limit_error, 503/529 overloaded_error, 504 timeout_error, other 5xx api_error.
std::string_view error_type_for_status(int status);

// An error of `status` with its type from error_type_for_status.
AnthropicError error_for_status(int status, std::string message);

// Expected<T>: a T or an AnthropicError.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}               // NOLINT
  Expected(AnthropicError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  const AnthropicError& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, AnthropicError> v_;
};

// A Gemini error answer (HTTP `http_status`, body {"error":{code,message,status,details}}, also
// list-wrapped or not JSON at all) as the Anthropic error a client expects. For an error event
// inside a 200 stream pass 200: the status then comes from the body. A key-level refusal that
// reached the client anyway (API_KEY_INVALID) is an api_error 502, never the client's 401: the
// client's own credential is the gateway token, which was accepted.
AnthropicError translate_gemini_error(int http_status, std::string_view body);

}  // namespace gemgate::anthropic
