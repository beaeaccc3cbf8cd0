#include "filters/anthropic/translate/errors.h"

#include <rapidjson/document.h>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/errors.h"

namespace gemgate::anthropic {

namespace oad = openai::detail;

std::string AnthropicError::to_json() const {
  oad::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  oad::Value inner(rapidjson::kObjectType);
  oad::add(inner, "type", type, a);
  oad::add(inner, "message", message, a);
  oad::add(d, "type", "error", a);
  oad::add(d, "error", std::move(inner), a);
  return oad::write_json(d);
}

std::string AnthropicError::to_sse() const {
  return "event: error\ndata: " + to_json() + "\n\n";
}

AnthropicError AnthropicError::invalid(std::string message) {
  return error_for_status(400, std::move(message));
}

AnthropicError AnthropicError::bad_upstream(std::string message) {
  return error_for_status(502, std::move(message));
}

std::string_view error_type_for_status(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

AnthropicError error_for_status(int status, std::string message) {
  AnthropicError e;
  e.status = status;
  e.type = std::string(error_type_for_status(status));
  e.message = std::move(message);
  return e;
}

AnthropicError translate_gemini_error(int http_status, std::string_view body) {
  // The OpenAI translator already reads every shape Gemini errors come in; only the mapping to
  // Anthropic's types is ours.
  openai::OpenAIError o = openai::translate_gemini_error(http_status, body);
  int status = o.status;
  if (o.upstream_reason == "API_KEY_INVALID" || status == 401) status = 502;
  AnthropicError e = error_for_status(status, o.message);
  e.retry_after_ms = o.retry_after_ms;
  return e;
}

}  // namespace gemgate::anthropic
