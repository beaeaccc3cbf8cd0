// gemgate_exchange_*: requests of both fronts to the Gemini call, whole answers and errors back,
// rejected requests, hostile arguments, and the library's status/error/version functions.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>
#include <thread>

#include "tests/unit/capi/capi_util.h"

namespace gemgate::capi::test {
namespace {

const char* kInvalidKeyBody =
    R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.",)"
    R"("status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",)"
    R"("reason":"API_KEY_INVALID","domain":"googleapis.com"}]}})";
const char* kQuotaBody =
    R"({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED",)"
    R"("details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}})";
const char* kAnswer =
    R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hello there"}]},)"
    R"("finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,)"
    R"("candidatesTokenCount":2,"totalTokenCount":5}})";

gemgate_status request(gemgate_exchange* x, const std::string& body) {
  return gemgate_exchange_request(x, body.data(), body.size());
}

struct Answer {
  int status = 0;
  std::string body;
};

Answer respond(gemgate_exchange* x, int status, const std::string& body) {
  Answer a;
  char* buf = nullptr;
  size_t len = 0;
  REQUIRE(gemgate_exchange_response(x, status, body.data(), body.size(), &a.status, &buf, &len) ==
          GEMGATE_OK);
  a.body = take(buf, len);
  return a;
}

}  // namespace

TEST_CASE("versions and status names") {
  CHECK(gemgate_abi_version() == GEMGATE_ABI_VERSION);
  CHECK(std::string(gemgate_version()).size() >= 5);
  CHECK(std::string(gemgate_status_name(GEMGATE_OK)) == "ok");
  CHECK(std::string(gemgate_status_name(GEMGATE_REJECTED)) == "rejected");
  CHECK(std::string(gemgate_status_name(static_cast<gemgate_status>(99))) == "unknown");
  gemgate_free(nullptr);
}

TEST_CASE("OpenAI chat: request → Gemini call, answer → chat.completion") {
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  REQUIRE(x);
  CHECK(gemgate_exchange_upstream_path(x.get()) == nullptr);
  REQUIRE(
      request(
          x.get(),
          R"({"model":"gemini-2.5-flash","messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"Hi"}]})") ==
      GEMGATE_OK);
  CHECK(std::string(gemgate_exchange_upstream_path(x.get())) ==
        "/v1beta/models/gemini-2.5-flash:generateContent");
  CHECK(std::string(gemgate_exchange_model(x.get())) == "gemini-2.5-flash");
  CHECK(std::string(gemgate_exchange_upstream_headers(x.get())) ==
        "Content-Type: application/json\r\n");
  CHECK(gemgate_exchange_is_stream(x.get()) == 0);
  size_t len = 0;
  std::string body(gemgate_exchange_upstream_body(x.get(), &len));
  CHECK(len == body.size());
  CHECK(body.find(R"("systemInstruction")") != std::string::npos);
  CHECK(body.find(R"({"text":"Hi"})") != std::string::npos);

  REQUIRE(gemgate_exchange_set_response_id(x.get(), "chatcmpl-fixed", 1700000000) == GEMGATE_OK);
  Answer a = respond(x.get(), 200, kAnswer);
  CHECK(a.status == 200);
  rapidjson::Document d;
  d.Parse(a.body.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["id"].GetString()) == "chatcmpl-fixed");
  CHECK(std::string(d["object"].GetString()) == "chat.completion");
  CHECK(std::string(d["choices"][0]["message"]["content"].GetString()) == "Hello there");
  CHECK(d["usage"]["total_tokens"].GetInt() == 5);
  CHECK(gemgate_exchange_error_status(x.get()) == 0);
  CHECK(gemgate_exchange_error_body(x.get()) == nullptr);
}

TEST_CASE("OpenAI chat: a random id and the time when none is fixed") {
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  REQUIRE(request(x.get(),
                  R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]})") ==
          GEMGATE_OK);
  Answer a = respond(x.get(), 200, kAnswer);
  rapidjson::Document d;
  d.Parse(a.body.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["id"].GetString()).rfind("chatcmpl-", 0) == 0);
  CHECK(std::string(d["id"].GetString()).size() > 15);
  CHECK(d["created"].GetInt64() > 1700000000);
}

TEST_CASE("OpenAI chat: Gemini errors become OpenAI errors with the right status") {
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  REQUIRE(request(x.get(),
                  R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]})") ==
          GEMGATE_OK);
  Answer a = respond(x.get(), 400, kInvalidKeyBody);
  CHECK(a.status == 401);
  CHECK(a.body.find("invalid_api_key") != std::string::npos);
  CHECK(gemgate_exchange_error_status(x.get()) == 401);
  CHECK(std::string(gemgate_exchange_error_body(x.get())) == a.body);

  a = respond(x.get(), 429, kQuotaBody);
  CHECK(a.status == 429);
  CHECK(a.body.find("rate_limit_error") != std::string::npos);
  CHECK(gemgate_exchange_retry_after_ms(x.get()) == 37000);

  a = respond(x.get(), 502, "<html>bad gateway</html>");
  CHECK(a.status >= 500);
  CHECK(a.body.find("\"error\"") != std::string::npos);

  a = respond(x.get(), 200, "not json");  // a 2xx that is not Gemini's shape
  CHECK(a.status == 502);
  CHECK(gemgate_exchange_retry_after_ms(x.get()) == -1);
}

TEST_CASE("OpenAI chat: a bad request is rejected with an OpenAI 400 naming the field") {
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  CHECK(request(x.get(),
                R"({"model":"gemini-2.5-flash","messages":[{"role":"wizard","content":"Hi"}]})") ==
        GEMGATE_REJECTED);
  CHECK(gemgate_exchange_error_status(x.get()) == 400);
  std::string err = gemgate_exchange_error_body(x.get());
  CHECK(err.find("messages[0].role") != std::string::npos);
  CHECK(std::string(gemgate_last_error()).find("rejected") != std::string::npos);
  CHECK(gemgate_exchange_upstream_path(x.get()) == nullptr);
  int status = 0;
  char* buf = nullptr;
  size_t len = 0;
  CHECK(gemgate_exchange_response(x.get(), 200, kAnswer, 10, &status, &buf, &len) == GEMGATE_STATE);
  CHECK(buf == nullptr);

  for (std::string hostile : {std::string(""), std::string("[[[["), std::string(100000, '['),
                              std::string("{\"model\":\"../../etc\",\"messages\":[]}"),
                              std::string("\xff\xfe\x00garbage", 10)}) {
    CHECK(request(x.get(), hostile) == GEMGATE_REJECTED);
    CHECK(gemgate_exchange_error_status(x.get()) == 400);
  }
  // A remote image is not downloaded by the library: a 400 naming the part.
  CHECK(
      request(
          x.get(),
          R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]})") ==
      GEMGATE_REJECTED);
  CHECK(std::string(gemgate_exchange_error_body(x.get())).find("messages[0]") != std::string::npos);
}

TEST_CASE("OpenAI chat stream request: path, Accept header, stream flag") {
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  REQUIRE(
      request(
          x.get(),
          R"({"model":"models/gemini-2.5-pro","stream":true,"messages":[{"role":"user","content":"Hi"}]})") ==
      GEMGATE_OK);
  CHECK(std::string(gemgate_exchange_upstream_path(x.get())) ==
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
  CHECK(std::string(gemgate_exchange_upstream_headers(x.get()))
            .find("Accept: text/event-stream\r\n") != std::string::npos);
  CHECK(gemgate_exchange_is_stream(x.get()) == 1);
}

TEST_CASE("Anthropic Messages: request, model alias, answer and errors") {
  Exchange x = new_exchange(GEMGATE_FRONT_ANTHROPIC_MESSAGES);
  REQUIRE(x);
  REQUIRE(
      request(
          x.get(),
          R"({"model":"claude-sonnet-4-5","max_tokens":100,"system":"Be brief","messages":[{"role":"user","content":"Hi"}]})") ==
      GEMGATE_OK);
  CHECK(std::string(gemgate_exchange_model(x.get())) == "claude-sonnet-4-5");
  REQUIRE(gemgate_exchange_set_upstream_model(x.get(), "gemini-2.5-pro") == GEMGATE_OK);
  CHECK(std::string(gemgate_exchange_upstream_path(x.get())) ==
        "/v1beta/models/gemini-2.5-pro:generateContent");
  CHECK(std::string(gemgate_exchange_model(x.get())) == "gemini-2.5-pro");
  CHECK(gemgate_exchange_set_upstream_model(x.get(), "../x") == GEMGATE_INVALID_ARGUMENT);
  CHECK(std::string(gemgate_exchange_upstream_path(x.get())) ==
        "/v1beta/models/gemini-2.5-pro:generateContent");

  REQUIRE(gemgate_exchange_set_response_id(x.get(), "msg_fixed", 0) == GEMGATE_OK);
  Answer a = respond(x.get(), 200, kAnswer);
  CHECK(a.status == 200);
  rapidjson::Document d;
  d.Parse(a.body.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["id"].GetString()) == "msg_fixed");
  CHECK(std::string(d["model"].GetString()) == "claude-sonnet-4-5");  // the client's name
  CHECK(std::string(d["content"][0]["text"].GetString()) == "Hello there");
  CHECK(std::string(d["stop_reason"].GetString()) == "end_turn");

  a = respond(x.get(), 429, kQuotaBody);
  CHECK(a.status == 429);
  CHECK(a.body.find(R"("type":"error")") != std::string::npos);
  CHECK(a.body.find("rate_limit_error") != std::string::npos);

  CHECK(request(x.get(), R"({"model":"claude-sonnet-4-5","messages":[]})") == GEMGATE_REJECTED);
  CHECK(gemgate_exchange_error_status(x.get()) == 400);
  CHECK(std::string(gemgate_exchange_error_body(x.get())).find("invalid_request_error") !=
        std::string::npos);
}

TEST_CASE("Anthropic Messages: a random msg_ id when none is fixed") {
  Exchange x = new_exchange(GEMGATE_FRONT_ANTHROPIC_MESSAGES);
  REQUIRE(
      request(
          x.get(),
          R"({"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"Hi"}]})") ==
      GEMGATE_OK);
  Answer a = respond(x.get(), 200, kAnswer);
  CHECK(a.body.find(R"("id":"msg_)") != std::string::npos);
}

TEST_CASE("hostile arguments give statuses, never crashes") {
  gemgate_exchange* raw = nullptr;
  CHECK(gemgate_exchange_create(static_cast<gemgate_front>(0), &raw) == GEMGATE_INVALID_ARGUMENT);
  CHECK(gemgate_exchange_create(static_cast<gemgate_front>(77), &raw) == GEMGATE_INVALID_ARGUMENT);
  CHECK(raw == nullptr);
  CHECK(std::string(gemgate_last_error()).find("front") != std::string::npos);
  CHECK(gemgate_exchange_create(GEMGATE_FRONT_OPENAI_CHAT, nullptr) == GEMGATE_INVALID_ARGUMENT);
  CHECK(gemgate_exchange_request(nullptr, "{}", 2) == GEMGATE_INVALID_ARGUMENT);
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  CHECK(gemgate_exchange_request(x.get(), nullptr, 5) == GEMGATE_INVALID_ARGUMENT);
  CHECK(gemgate_exchange_set_response_id(x.get(), nullptr, 0) == GEMGATE_INVALID_ARGUMENT);
  CHECK(gemgate_exchange_set_upstream_model(x.get(), "gemini-2.5-pro") == GEMGATE_STATE);
  CHECK(gemgate_exchange_is_stream(nullptr) == 0);
  CHECK(gemgate_exchange_model(nullptr) == nullptr);
  CHECK(gemgate_exchange_retry_after_ms(nullptr) == -1);
  gemgate_exchange_destroy(nullptr);
}

TEST_CASE("the last error is per thread") {
  gemgate_exchange* raw = nullptr;
  CHECK(gemgate_exchange_create(static_cast<gemgate_front>(0), &raw) == GEMGATE_INVALID_ARGUMENT);
  std::string here = gemgate_last_error();
  std::string there = "unset";
  std::thread t([&] { there = gemgate_last_error(); });
  t.join();
  CHECK(there.empty());
  CHECK(std::string(gemgate_last_error()) == here);
}

}  // namespace gemgate::capi::test
