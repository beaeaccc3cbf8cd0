// Gemini error bodies → OpenAI errors. The decision table is in
// translate_gemini_error(); the helpers above it only dig facts out of Google's body.
#include "filters/openai/translate/errors.h"

#include <cmath>
#include <cstdlib>

#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::openai {

using detail::Document;
using detail::field;
using detail::Value;

std::string OpenAIError::to_json() const {
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Value e(rapidjson::kObjectType);
  detail::add(e, "message", message, a);
  detail::add(e, "type", type, a);
  detail::add(e, "param", param ? detail::str(*param, a) : Value(), a);
  detail::add(e, "code", code ? detail::str(*code, a) : Value(), a);
  detail::add(d, "error", std::move(e), a);
  return detail::write_json(d);
}

std::string OpenAIError::to_sse() const {
  return "data: " + to_json() + "\n\n";
}

OpenAIError OpenAIError::invalid(std::string message, std::optional<std::string> param,
                                 std::optional<std::string> code) {
  OpenAIError e;
  e.status = 400;
  e.message = std::move(message);
  e.param = std::move(param);
  e.code = std::move(code);
  return e;
}

OpenAIError OpenAIError::bad_upstream(std::string message) {
  OpenAIError e;
  e.status = 502;
  e.type = "server_error";
  e.message = std::move(message);
  e.code = "bad_upstream_response";
  return e;
}

namespace {

// What Google's error body says, with every field optional.
struct GoogleError {
  int code = 0;
  std::string message;
  std::string status;  // INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...
  std::string reason;  // ErrorInfo.reason
  std::optional<int64_t> retry_delay_ms;
  bool parsed = false;
};

// Google durations are "<seconds>s" with an optional fraction: "59s", "0.250s".
std::optional<int64_t> parse_protobuf_duration_ms(std::string_view s) {
  if (s.size() < 2 || s.back() != 's') return std::nullopt;
  std::string num(s.substr(0, s.size() - 1));
  char* end = nullptr;
  double secs = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(secs) || secs < 0 || secs > 86400.0 * 7) {
    return std::nullopt;
  }
  return static_cast<int64_t>(std::ceil(secs * 1000.0));
}

int code_for_status(std::string_view status) {
  if (status == "INVALID_ARGUMENT" || status == "FAILED_PRECONDITION" || status == "OUT_OF_RANGE")
    return 400;
  if (status == "UNAUTHENTICATED") return 401;
  if (status == "PERMISSION_DENIED") return 403;
  if (status == "NOT_FOUND") return 404;
  if (status == "ALREADY_EXISTS" || status == "ABORTED") return 409;
  if (status == "RESOURCE_EXHAUSTED") return 429;
  if (status == "CANCELLED") return 499;
  if (status == "UNIMPLEMENTED") return 501;
  if (status == "UNAVAILABLE") return 503;
  if (status == "DEADLINE_EXCEEDED") return 504;
  if (status == "INTERNAL" || status == "UNKNOWN" || status == "DATA_LOSS") return 500;
  return 0;
}

GoogleError read_google_error(std::string_view body) {
  GoogleError g;
  Document doc;
  std::string err;
  if (!detail::parse_json(body, doc, &err)) return g;
  const Value* root = &doc;
  if (root->IsArray() && !root->Empty()) root = &(*root)[0];  // [{"error":{...}}]
  const Value* e = field(*root, "error");
  if (!e || !e->IsObject()) return g;
  g.parsed = true;
  if (const Value* v = field(*e, "code"); v && v->IsInt()) g.code = v->GetInt();
  if (const Value* v = field(*e, "message"); v && v->IsString()) g.message = detail::sv(*v);
  if (const Value* v = field(*e, "status"); v && v->IsString()) g.status = detail::sv(*v);
  const Value* details = field(*e, "details");
  if (details && details->IsArray()) {
    for (const Value& d : details->GetArray()) {
      const Value* type = field(d, "@type");
      if (!type || !type->IsString()) continue;
      std::string_view t = detail::sv(*type);
      if (t.ends_with("google.rpc.ErrorInfo")) {
        if (const Value* r = field(d, "reason"); r && r->IsString()) g.reason = detail::sv(*r);
      } else if (t.ends_with("google.rpc.RetryInfo")) {
        if (const Value* r = field(d, "retryDelay"); r && r->IsString()) {
          g.retry_delay_ms = parse_protobuf_duration_ms(detail::sv(*r));
        }
      }
    }
  }
  return g;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

}  // namespace

OpenAIError translate_gemini_error(int http_status, std::string_view body) {
  GoogleError g = read_google_error(body);
  int status = http_status;
  if (status < 400) {  // an error event inside a 200 stream: the body says what happened
    status = g.code >= 400 && g.code <= 599 ? g.code : code_for_status(g.status);
    if (status < 400 || status > 599) status = 500;  // the body is data: only real HTTP errors
  }

  OpenAIError e;
  e.upstream_status = g.status;
  e.upstream_reason = g.reason;
  e.message = !g.message.empty() ? g.message
                                 : "The Gemini API answered HTTP " + std::to_string(status) +
                                       (g.parsed ? "." : " without a readable error body.");
  e.status = status;
  const std::string& m = g.message;

  if (g.reason == "API_KEY_INVALID" || g.reason == "API_KEY_EXPIRED" ||
      contains(m, "API key not valid") || contains(m, "API key expired") || status == 401) {
    e.status = 401;
    e.type = "invalid_request_error";
    e.code = "invalid_api_key";
    return e;
  }
  switch (status) {
    case 400:
      e.type = "invalid_request_error";
      if (contains(m, "input token count") && contains(m, "exceeds")) {
        e.code = "context_length_exceeded";
        e.param = "messages";
      } else if (contains(m, "location is not supported") ||
                 contains(m, "free tier is not available")) {
        e.status = 403;
        e.code = "unsupported_country_region_territory";
      }
      return e;
    case 403:
      if (contains(m, "unregistered callers")) {
        e.status = 401;
        e.type = "invalid_request_error";
        e.code = "missing_api_key";
      } else {
        e.type = "permission_error";
        e.code = "permission_denied";
      }
      return e;
    case 404:
      e.type = "invalid_request_error";
      e.code = contains(m, "models/") ? "model_not_found" : "not_found";
      return e;
    case 402:
      e.status = 429;
      e.type = "insufficient_quota";
      e.code = "insufficient_quota";
      return e;
    case 429:
      e.retry_after_ms = g.retry_delay_ms;
      if (contains(m, "limit: 0")) {  // free tier without quota for this model: retrying won't help
        e.type = "insufficient_quota";
        e.code = "insufficient_quota";
      } else {
        e.type = "rate_limit_error";
        e.code = "rate_limit_exceeded";
      }
      return e;
    case 499:
      e.type = "api_error";
      e.code = "cancelled";
      return e;
    case 503:
      e.type = "server_error";
      e.code = "service_unavailable";
      return e;
    case 504:
      e.type = "server_error";
      e.code = "timeout";
      return e;
    default:
      e.type = status >= 500 ? "server_error" : "invalid_request_error";
      return e;
  }
}

}  // namespace gemgate::openai
