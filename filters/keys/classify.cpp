#include "filters/keys/classify.h"

#include <rapidjson/document.h>

#include <cstdlib>

namespace gemgate::keys {

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
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) return out;
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
          out.retry_delay_ms = parse_duration_ms(r->value.GetString());
        }
      }
    }
  }
  return out;
}

bool mentions_invalid_key(const GoogleError& e) {
  if (e.reason == "API_KEY_INVALID" || e.reason == "API_KEY_EXPIRED" ||
      e.reason == "API_KEY_SERVICE_BLOCKED") {
    return true;
  }
  // Older answers carry no ErrorInfo; the message is the only signal.
  return e.message.find("API key not valid") != std::string::npos ||
         e.message.find("API key expired") != std::string::npos;
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

int64_t parse_duration_ms(std::string_view text) {
  if (text.empty() || text.back() != 's') return -1;
  std::string number(text.substr(0, text.size() - 1));
  if (number.empty()) return -1;
  char* end = nullptr;
  double seconds = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || seconds < 0 || seconds > 86400.0 * 30) return -1;
  return static_cast<int64_t>(seconds * 1000.0 + 0.5);
}

Outcome classify_response(int status, std::string_view body) {
  if (status >= 200 && status < 300) return make(OutcomeKind::kSuccess, status, "", "");
  GoogleError e = parse_google_error(body);
  std::string detail = !e.reason.empty()   ? e.reason
                       : !e.status.empty() ? e.status
                                           : std::to_string(status);
  if (status == 401) return make(OutcomeKind::kKeyInvalid, status, detail, "key_invalid");
  if (status == 403) return make(OutcomeKind::kKeyInvalid, status, detail, "key_denied");
  if (status == 400 && mentions_invalid_key(e)) {
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

Outcome classify_transport_failure(std::string_view failure, std::string_view message) {
  std::string kind = failure.empty() ? "transport" : std::string(failure);
  return make(OutcomeKind::kTransient, 0, std::string(message.empty() ? kind : message), kind);
}

}  // namespace gemgate::keys
