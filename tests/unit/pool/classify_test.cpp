// classify_response on real Gemini error bodies (what each answer means for the key that was
// used), transport failures and protobuf durations.
#include "pool/classify.h"

#include <doctest/doctest.h>

using namespace gemgate::pool;

namespace {

const char* kKeyInvalid = R"({
  "error": {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
    "details": [
      {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
       "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
      {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
       "message": "API key not valid. Please pass a valid API key."}
    ]
  }
})";

const char* kKeyInvalidNoInfo =
    R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}})";

const char* kBadRequest =
    R"({"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified\n","status":"INVALID_ARGUMENT"}})";

const char* kSuspended = R"({
  "error": {
    "code": 403,
    "message": "Permission denied: Consumer 'api_key:AIzaSyDUMMYDUMMYDUMMYDUMMYDUMMYDUMMY12' has been suspended.",
    "status": "PERMISSION_DENIED",
    "details": [
      {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CONSUMER_SUSPENDED",
       "domain": "googleapis.com",
       "metadata": {"consumer": "projects/123", "service": "generativelanguage.googleapis.com"}}
    ]
  }
})";

const char* kPermissionDenied =
    R"({"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}})";

std::string quota_body(const std::string& delay) {
  return R"({
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
       "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                       "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                       "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                       "quotaValue": "10"}]},
      {"@type": "type.googleapis.com/google.rpc.Help",
       "links": [{"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
      {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": ")" +
         delay + R"("}
    ]
  }
})";
}

}  // namespace

TEST_CASE("2xx is success") {
  CHECK(classify_response(200, "{}").kind == OutcomeKind::kSuccess);
  CHECK(classify_response(204, "").kind == OutcomeKind::kSuccess);
}

TEST_CASE("400 API_KEY_INVALID with ErrorInfo: the key is invalid") {
  Outcome o = classify_response(400, kKeyInvalid);
  CHECK(o.kind == OutcomeKind::kKeyInvalid);
  CHECK(o.status == 400);
  CHECK(o.reason == "API_KEY_INVALID");
  CHECK(o.kind_name == "key_invalid");
}

TEST_CASE("400 without ErrorInfo but 'API key not valid' in the message: the key is invalid") {
  Outcome o = classify_response(400, kKeyInvalidNoInfo);
  CHECK(o.kind == OutcomeKind::kKeyInvalid);
  CHECK(o.kind_name == "key_invalid");
}

TEST_CASE("400 INVALID_ARGUMENT about the payload: the client's error, not the key's") {
  Outcome o = classify_response(400, kBadRequest);
  CHECK(o.kind == OutcomeKind::kClientError);
  CHECK(o.reason == "INVALID_ARGUMENT");
  CHECK(o.kind_name == "client_error");
}

TEST_CASE("401 and a key-level 403 (CONSUMER_SUSPENDED) make the key unusable") {
  CHECK(classify_response(401, R"({"error":{"code":401,"status":"UNAUTHENTICATED"}})").kind ==
        OutcomeKind::kKeyInvalid);
  Outcome suspended = classify_response(403, kSuspended);
  CHECK(suspended.kind == OutcomeKind::kKeyInvalid);
  CHECK(suspended.reason ==
        "CONSUMER_SUSPENDED");  // the reason, never the message (it names the key)
  CHECK(suspended.reason.find("AIza") == std::string::npos);
  CHECK(suspended.kind_name == "key_denied");
}

TEST_CASE("a 403 about a resource, or a 401 for an OAuth-only endpoint, is the client's problem") {
  // A client can provoke these at will (someone else's file, a cached content it may not use,
  // an OAuth-only API): they must never disable pool keys.
  Outcome denied = classify_response(403, kPermissionDenied);
  CHECK(denied.kind == OutcomeKind::kClientError);
  CHECK(denied.reason == "PERMISSION_DENIED");
  CHECK(classify_response(403, "").kind == OutcomeKind::kClientError);
  CHECK(
      classify_response(
          401,
          R"({"error":{"code":401,"message":"API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials that assert a principal.","status":"UNAUTHENTICATED"}})")
          .kind == OutcomeKind::kClientError);
  CHECK(
      classify_response(
          403,
          R"({"error":{"code":403,"message":"Generative Language API has not been used in project 1 before or it is disabled.","status":"PERMISSION_DENIED"}})")
          .kind == OutcomeKind::kKeyInvalid);
}

TEST_CASE("text a client smuggles into Google's message never disables a key") {
  // Google echoes unknown field names: {"API key not valid": 1} in the body comes back in the
  // message of a client-error 400.
  const char* echoed =
      R"({"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"API key not valid\": Cannot find field.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"description":"Invalid JSON payload received. Unknown name \"API key not valid\": Cannot find field."}]}]}})";
  CHECK(classify_response(400, echoed).kind == OutcomeKind::kClientError);
  CHECK(
      classify_response(
          403,
          R"({"error":{"code":403,"message":"x API_KEY_INVALID Consumer suspended","status":"PERMISSION_DENIED"}})")
          .kind == OutcomeKind::kClientError);
}

TEST_CASE("429 RESOURCE_EXHAUSTED is quota, with RetryInfo's delay when given") {
  Outcome a = classify_response(429, quota_body("37s"));
  CHECK(a.kind == OutcomeKind::kQuota);
  CHECK(a.retry_delay_ms == 37'000);
  CHECK(a.kind_name == "quota");
  CHECK(a.reason == "RESOURCE_EXHAUSTED");
  CHECK(classify_response(429, quota_body("1.5s")).retry_delay_ms == 1'500);
  Outcome bare = classify_response(429, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}})");
  CHECK(bare.kind == OutcomeKind::kQuota);
  CHECK(bare.retry_delay_ms == -1);
}

TEST_CASE("5xx and 408 are transient") {
  Outcome internal = classify_response(
      500,
      R"({"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}})");
  CHECK(internal.kind == OutcomeKind::kTransient);
  CHECK(internal.kind_name == "upstream_500");
  Outcome overloaded = classify_response(
      503, R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})");
  CHECK(overloaded.kind == OutcomeKind::kTransient);
  CHECK(overloaded.reason == "UNAVAILABLE");
  CHECK(classify_response(408, "").kind == OutcomeKind::kTransient);
}

TEST_CASE("404 NOT_FOUND is the client's error") {
  Outcome o = classify_response(
      404,
      R"({"error":{"code":404,"message":"models/gemini-9 is not found","status":"NOT_FOUND"}})");
  CHECK(o.kind == OutcomeKind::kClientError);
  CHECK(o.reason == "NOT_FOUND");
}

TEST_CASE("non-JSON bodies are classified by status alone") {
  CHECK(classify_response(502, "<html><body>502 Bad Gateway</body></html>").kind ==
        OutcomeKind::kTransient);
  CHECK(classify_response(502, "<html>").reason == "502");
  CHECK(classify_response(429, "Too Many Requests").kind == OutcomeKind::kQuota);
  CHECK(classify_response(400, "not json").kind == OutcomeKind::kClientError);
  CHECK(classify_response(400, "[]").kind == OutcomeKind::kClientError);
  CHECK(classify_response(400, R"({"error":"flat string"})").kind == OutcomeKind::kClientError);
}

TEST_CASE("a streamed error wrapped in a one-element array is read like a plain one") {
  std::string wrapped = std::string("[") + kKeyInvalid + "]";
  CHECK(classify_response(400, wrapped).kind == OutcomeKind::kKeyInvalid);
  CHECK(classify_response(429, "[" + quota_body("5s") + "]").retry_delay_ms == 5'000);
}

TEST_CASE("transport failures: unreachable for connect failures, else transient; kind kept") {
  Outcome o =
      classify_transport_failure(gemgate::transport::FailureKind::kTimeout, "no answer in 300s");
  CHECK(o.kind == OutcomeKind::kTransient);
  CHECK(o.status == 0);
  CHECK(o.kind_name == "timeout");
  CHECK(o.reason == "no answer in 300s");
  Outcome c = classify_transport_failure(gemgate::transport::FailureKind::kConnectFailed, "");
  CHECK(c.kind == OutcomeKind::kUnreachable);
  CHECK(c.kind_name == "connect");
  CHECK(c.reason == "connect");
  CHECK(classify_transport_failure(gemgate::transport::FailureKind::kReset, "").kind ==
        OutcomeKind::kTransient);
}

TEST_CASE("parse_protobuf_duration_ms reads protobuf durations") {
  CHECK(parse_protobuf_duration_ms("37s") == 37'000);
  CHECK(parse_protobuf_duration_ms("1.5s") == 1'500);
  CHECK(parse_protobuf_duration_ms("0.001s") == 1);
  CHECK(parse_protobuf_duration_ms("0s") == 0);
  for (const char* bad : {"", "s", "37", "-1s", "1.5ms", "abcs", "1e999s", "99999999s"}) {
    CAPTURE(bad);
    CHECK(parse_protobuf_duration_ms(bad) == -1);
  }
}
