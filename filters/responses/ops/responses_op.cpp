// What the Responses ops share: OpenAI-shaped error answers.
#include "filters/responses/ops/responses_op.h"

#include "filters/common/openai_error_answer.h"

namespace gemgate::responses {

OpenAIError request_error(int status, std::string message, std::string code, std::string param) {
  OpenAIError e = OpenAIError::invalid(std::move(message));
  e.status = status;
  if (!code.empty()) e.code = std::move(code);
  if (!param.empty()) e.param = std::move(param);
  return e;
}

http::Response error_response(const OpenAIError& e) {
  return openai_error_response(e);
}

Status reply_error(FilterCallbacks& x, const OpenAIError& e) {
  return reply_openai_error(x, e);
}

OpenAIError stream_error(const http::LocalError& e) {
  OpenAIError o;
  o.status = e.status;
  o.message = e.message;
  o.type = "server_error";
  o.code = e.status == 429 ? "rate_limit_exceeded" : "server_error";
  return o;
}

OpenAIError storage_unavailable() {
  OpenAIError e;
  e.status = 503;
  e.type = "server_error";
  e.code = "service_unavailable";
  e.message = "stored responses are unavailable right now; try again";
  return e;
}

bool valid_response_id(std::string_view id) {
  if (!id.starts_with("resp_") || id.size() < 6 || id.size() > 105) return false;
  for (char c : id.substr(5)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

OpenAIError response_not_found(const std::string& id, const std::string& param) {
  return request_error(404, "Response with id '" + id + "' not found.", "not_found", param);
}

}  // namespace gemgate::responses
