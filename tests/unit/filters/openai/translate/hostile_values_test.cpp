// Hostile values in otherwise well-formed input (the structure attacks are in hostile_test.cpp):
// NUL characters, huge strings, duplicate keys, wrong types, numbers out of range, and upstream
// answers or stream events that are not JSON. Each gets an OpenAI-shaped 400 naming the field,
// or a translation that keeps the bytes intact; none crashes.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>

#include "case_util.h"

namespace gemgate::openai::test {

namespace {

std::string chat(const std::string& content_json, const std::string& extra = "") {
  return R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":)" + content_json +
         "}]" + extra + "}";
}

// Parses `json` (REQUIREs an object) into `doc`.
void parse_object(const std::string& json, rapidjson::Document& doc) {
  doc.Parse(json.data(), json.size());
  REQUIRE_MESSAGE(!doc.HasParseError(), json);
  REQUIRE(doc.IsObject());
}

}  // namespace

TEST_CASE("a NUL character in a message reaches Gemini escaped, and comes back escaped") {
  auto r = translate_chat_request(chat(R"("a\u0000b")"));
  REQUIRE(r.has_value());
  rapidjson::Document doc;
  parse_object(r->body, doc);
  const auto& text = doc["contents"][0]["parts"][0]["text"];
  CHECK(std::string(text.GetString(), text.GetStringLength()) == std::string("a\0b", 3));
  CHECK(r->body.find('\0') == std::string::npos);  // escaped, not raw

  ChatContext ctx;
  ctx.model = "m";
  auto a = translate_chat_response(
      R"({"candidates":[{"content":{"parts":[{"text":"a\u0000b"}]}}]})", ctx, {"id", 1});
  REQUIRE(a.has_value());
  parse_object(a->body, doc);
  const auto& content = doc["choices"][0]["message"]["content"];
  CHECK(std::string(content.GetString(), content.GetStringLength()) == std::string("a\0b", 3));
  CHECK(a->body.find('\0') == std::string::npos);

  // A model id is a URL path segment: a NUL (or a path) in it is a 400, never a request.
  for (const char* model : {R"("m\u0000x")", R"("../../x")", R"("m/x")"}) {
    CAPTURE(model);
    auto e = translate_chat_request(std::string(R"({"model":)") + model +
                                    R"(,"messages":[{"role":"user","content":"x"}]})");
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().status == 400);
    CHECK(e.error().param == "model");
  }
}

TEST_CASE("a huge message string is carried whole") {
  std::string big(8u << 20, 'x');
  auto r = translate_chat_request(chat("\"" + big + "\""));
  REQUIRE(r.has_value());
  CHECK(r->body.size() > big.size());
  CHECK(r->body.find(big) != std::string::npos);
}

TEST_CASE("duplicate keys: one parse decides, the first value wins") {
  // The translated path is what the models, policy and keys filters see, so the model called is
  // the model checked whatever the client repeats.
  auto r = translate_chat_request(
      R"({"model":"gemini-2.5-flash","model":"gemini-2.5-pro","messages":[{"role":"user","content":"x"}]})");
  REQUIRE(r.has_value());
  CHECK(r->path == "/v1beta/models/gemini-2.5-flash:generateContent");
}

TEST_CASE("wrong types and out-of-range numbers are 400s naming the field") {
  struct Case {
    std::string body, param;
  };
  const std::string msgs = R"("messages":[{"role":"user","content":"x"}])";
  const Case cases[] = {
      {chat(R"("x")", R"(,"temperature":"hot")"), "temperature"},
      {chat(R"("x")", R"(,"max_tokens":-1)"), "max_tokens"},
      {chat(R"("x")", R"(,"max_tokens":1e300)"), "max_tokens"},
      {chat(R"("x")", R"(,"max_tokens":99999999999999999999999)"), "max_tokens"},
      {chat(R"("x")", R"(,"n":3.5)"), "n"},
      {chat("5"), "messages[0].content"},
      {R"({"model":5,)" + msgs + "}", "model"},
      {R"({"model":"m","messages":"x"})", "messages"},
      {R"({"model":"m","messages":[{"role":7,"content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","stream":"yes",)" + msgs + "}", "stream"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto r = translate_chat_request(c.body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().status == 400);
    CHECK(r.error().param == c.param);
    rapidjson::Document doc;
    parse_object(r.error().to_json(), doc);
    CHECK(doc["error"]["type"] == "invalid_request_error");
  }
}

TEST_CASE("Gemini's token counts out of range become 0, not a wrapped number") {
  ChatContext ctx;
  ctx.model = "m";
  for (const char* count : {"1e300", "-5", "\"x\"", "18446744073709551616", "null", "true"}) {
    CAPTURE(count);
    auto r = translate_chat_response(
        std::string(
            R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":)") +
            count + R"(,"candidatesTokenCount":2}})",
        ctx, {"id", 1});
    REQUIRE(r.has_value());
    rapidjson::Document doc;
    parse_object(r->body, doc);
    CHECK(doc["usage"]["prompt_tokens"].GetInt64() == 0);
    CHECK(doc["usage"]["completion_tokens"].GetInt64() == 2);
    CHECK(doc["usage"]["total_tokens"].GetInt64() == 2);
  }
}

TEST_CASE("an upstream answer or stream event that is not a JSON object is a clear error") {
  ChatContext ctx;
  ctx.model = "m";
  for (const char* answer :
       {"not json", "", "[1,2]", "{\"candidates\":5}", "{\"candidates\":[{\"content\":"}) {
    CAPTURE(answer);
    auto r = translate_chat_response(answer, ctx, {"id", 1});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().status == 502);
    CHECK(r.error().code == "bad_upstream_response");
  }
  for (const char* event : {"data: not json\r\n\r\n", "data: [1,2]\r\n\r\n", "data: \"x\"\n\n",
                            "data: {\"candidates\":\n\n"}) {
    CAPTURE(event);
    // Whole, and split at every byte: the same single error event, then the stream is over.
    std::string whole;
    {
      ChatStreamTranslator t(ctx, {"id", 1});
      t.feed(event, whole);
      t.finish(whole);
      CHECK(t.done());
    }
    CHECK(whole.find("\"code\":\"bad_upstream_response\"") != std::string::npos);
    CHECK(whole.find("chat.completion.chunk") == std::string::npos);
    std::string framing;
    sse_events(whole, &framing);
    CHECK_MESSAGE(framing.empty(), framing);
    std::string bytes;
    ChatStreamTranslator t(ctx, {"id", 1});
    for (const char* p = event; *p; ++p) t.feed(std::string_view(p, 1), bytes);
    t.finish(bytes);
    CHECK(bytes == whole);
  }
}

}  // namespace gemgate::openai::test
