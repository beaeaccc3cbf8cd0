#include "pool/classify.h"

#include <cmath>
#include <cstdlib>
#include <rapidjson/document.h>

#include "core/json.h"

namespace gemgate::pool {

namespace {

struct GoogleError {
  std::string status;  // "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", ...
  std::string message;
  std::string reason;  // ErrorInfo.reason, e.g. "API_KEY_INVALID"
  int64_t retry_delay_ms = -1;
};

GoogleError parse_google_error(std::string_view body) {
  GoogleError out;
  rapidjson::Document doc;
  if (!json::parse(doc, body)) return out;
  // Streaming calls may answer with a one-element array around the error object.
  const rapidjson::Value* root = &doc;
  if (root->IsArray() && root->Size() > 0) root = &(*root)[0];
  if (!root->IsObject()) return out;
  auto err = root->FindMember("error");
  if (err == root->MemberEnd() || !err->value.IsObject()) return out;
  const auto& e = err->value;
  if (auto it = e.FindMember("status"); it != e.MemberEnd() && it->value.IsString()) {
    out.status = it->value.GetString();
  }
  if (auto it = e.FindMember("message"); it != e.MemberEnd() && it->value.IsString()) {
    out.message = it->value.GetString();
  }
  auto details = e.FindMember("details");
  if (details != e.MemberEnd() && details->value.IsArray()) {
    for (const auto& d : details->value.GetArray()) {
      if (!d.IsObject()) continue;
      auto type = d.FindMember("@type");
      std::string_view t =
          (type != d.MemberEnd() && type->value.IsString()) ? type->value.GetString() : "";
      if (t.find("ErrorInfo") != std::string_view::npos) {
        if (auto r = d.FindMember("reason"); r != d.MemberEnd() && r->value.IsString()) {
          out.reason = r->value.GetString();
        }
      } else if (t.find("RetryInfo") != std::string_view::npos) {
        if (auto r = d.FindMember("retryDelay"); r != d.MemberEnd() && r->value.IsString()) {
          out.retry_delay_ms = parse_protobuf_duration_ms(r->value.GetString());
        }
      }
    }
  }
  return out;
}

// ErrorInfo reasons that are about the API key or the project behind it, never about the request.
bool key_reason(std::string_view reason) {
  return reason.starts_with("API_KEY_") || reason == "CONSUMER_SUSPENDED" ||
         reason == "CONSUMER_INVALID" || reason == "SERVICE_DISABLED" ||
         reason == "BILLING_DISABLED";
}

// True when Google says the key itself is unusable. Only the structured reason counts, or — for
// answers without ErrorInfo — a message that *starts* with Google's own wording: a client can put
// any text into a message Google echoes back ("Unknown name \"API key not valid\""), and must never
// be able to get pool keys disabled that way.
bool rejects_the_key(const GoogleError& e) {
  if (key_reason(e.reason)) return true;
  if (!e.reason.empty()) return false;
  return e.message.starts_with("API key not valid") || e.message.starts_with("API key expired") ||
         e.message.starts_with("Permission denied: Consumer") ||
         (e.message.starts_with("Generative Language API has not been used in project"));
}

Outcome make(OutcomeKind kind, int status, std::string reason, std::string kind_name) {
  Outcome o;
  o.kind = kind;
  o.status = status;
  o.reason = std::move(reason);
  o.kind_name = std::move(kind_name);
  return o;
}

}  // namespace

int64_t parse_protobuf_duration_ms(std::string_view text) {
  if (text.empty() || text.back() != 's') return -1;
  std::string number(text.substr(0, text.size() - 1));
  if (number.empty()) return -1;
  char* end = nullptr;
  double seconds = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(seconds) || seconds < 0 ||
      seconds > 86400.0 * 30) {
    return -1;  // "nans", "infs", negatives and absurd delays are no delay at all
  }
  return static_cast<int64_t>(seconds * 1000.0 + 0.5);
}

namespace {

// The class of a non-2xx answer, from its status and Google's parsed error.
Outcome classify_error(int status, const GoogleError& e) {
  std::string detail = !e.reason.empty()   ? e.reason
                       : !e.status.empty() ? e.status
                                           : std::to_string(status);
  if (status == 401) {
    // An endpoint that takes OAuth only (e.g. tuned models) answers 401 to any API key: the
    // request is at fault, not the key.
    if (e.message.find("API keys are not supported") != std::string::npos) {
      return make(OutcomeKind::kClientError, status, detail, "client_error");
    }
    return make(OutcomeKind::kKeyInvalid, status, detail, "key_invalid");
  }
  if (status == 403) {
    // 403 also means "this project may not touch that file / cached content", which a client
    // can provoke at will; only a key- or project-level refusal disables the key.
    if (rejects_the_key(e)) return make(OutcomeKind::kKeyInvalid, status, detail, "key_denied");
    return make(OutcomeKind::kClientError, status, detail, "client_error");
  }
  if (status == 400 && rejects_the_key(e)) {
    return make(OutcomeKind::kKeyInvalid, status, detail.empty() ? "API_KEY_INVALID" : detail,
                "key_invalid");
  }
  if (status == 429) {
    Outcome o = make(OutcomeKind::kQuota, status, detail, "quota");
    o.retry_delay_ms = e.retry_delay_ms;
    return o;
  }
  if (status >= 500 || status == 408) {
    return make(OutcomeKind::kTransient, status, detail, "upstream_" + std::to_string(status));
  }
  return make(OutcomeKind::kClientError, status, detail, "client_error");
}

}  // namespace

Outcome classify_response(int status, std::string_view body) {
  if (status >= 200 && status < 300) return make(OutcomeKind::kSuccess, status, "", "");
  GoogleError e = parse_google_error(body);
  Outcome o = classify_error(status, e);
  o.message = std::move(e.message);
  return o;
}

Outcome classify_transport_failure(transport::FailureKind kind, std::string_view message) {
  std::string name = transport::failure_kind_name(kind);
  OutcomeKind k = kind == transport::FailureKind::kConnectFailed ? OutcomeKind::kUnreachable
                                                                 : OutcomeKind::kTransient;
  return make(k, 0, std::string(message.empty() ? std::string_view(name) : message), name);
}

}  // namespace gemgate::pool
