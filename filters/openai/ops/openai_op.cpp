// What the OpenAI ops share: OpenAI-shaped error answers and pointing a request at Gemini.
#include "filters/openai/ops/openai_op.h"

#include <optional>

#include "filters/common/openai_error_answer.h"

namespace gemgate::openai {

OpenAIError request_error(int status, std::string message, std::string code) {
  OpenAIError e = OpenAIError::invalid(std::move(message), std::nullopt, std::move(code));
  e.status = status;
  return e;
}

http::Response error_response(const OpenAIError& e) {
  return openai_error_response(e);
}

Status reply_error(FilterCallbacks& x, const OpenAIError& e) {
  return reply_openai_error(x, e);
}

OpenAIError from_local(const http::LocalError& e) {
  OpenAIError o;
  o.status = e.status;
  o.message = e.message;
  if (!e.param.empty()) o.param = e.param;
  switch (e.status) {
    case 400:
    case 405:
    case 413:
    case 415:
      o.type = "invalid_request_error";
      break;
    case 401:
      o.type = "authentication_error";
      o.code = "invalid_api_key";
      break;
    case 403:
      o.type = "permission_error";
      break;
    case 404:
      o.type = "invalid_request_error";
      o.code = "not_found";
      break;
    case 429:
      // A used-up quota is not a rate: OpenAI's clients stop retrying on insufficient_quota.
      o.type = e.reason == "insufficient_quota" ? "insufficient_quota" : "rate_limit_error";
      o.code = e.reason == "insufficient_quota" ? "insufficient_quota" : "rate_limit_exceeded";
      break;
    case 503:
      o.type = "server_error";
      o.code = "service_unavailable";
      break;
    case 504:
      o.type = "server_error";
      o.code = "timeout";
      break;
    default:
      o.type = e.status >= 500 ? "server_error" : "invalid_request_error";
      break;
  }
  return o;
}

namespace {

// headers.set(name, value), skipped when the head already holds exactly that one field, name
// spelt the same (a client's own content-type: application/json): no new string.
void set_once(http::HeaderMap& headers, std::string_view name, std::string_view value) {
  const std::string* now = headers.get(name);
  if (now && *now == value && headers.count(name) == 1) {
    for (const auto& [n, v] : headers.entries()) {
      if (&v == now && n == name) return;
    }
  }
  headers.set(name, std::string(value));
}

}  // namespace

void aim(http::Request& req, std::string_view method, std::string_view target, std::string body) {
  req.method.assign(method);
  size_t q = target.find('?');
  req.path.assign(target.substr(0, q));
  if (q == std::string_view::npos) {
    req.query.clear();
  } else {
    req.query.assign(target.substr(q + 1));
  }
  req.body = std::move(body);
  set_once(req.headers, "content-type", "application/json");
  set_once(req.headers, "accept", "application/json");
}

}  // namespace gemgate::openai
