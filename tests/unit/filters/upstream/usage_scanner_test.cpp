// UsageScanner: finds Gemini's usageMetadata in JSON, JSON-array streams and SSE, however the
// body is split into pieces; the last object wins (Gemini reports cumulative usage).
#include "filters/upstream/usage_scanner.h"

#include <doctest/doctest.h>

using gemgate::TokenUsage;
using gemgate::upstream::UsageScanner;

namespace {

const std::string kJson = R"({
  "candidates": [{"content": {"parts": [{"text": "a \"usageMetadata\": {\"totalTokenCount\": 999} trap"}],
                  "role": "model"}, "finishReason": "STOP"}],
  "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 40,
                    "thoughtsTokenCount": 22, "cachedContentTokenCount": 3,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 11}]},
  "modelVersion": "gemini-2.5-flash"
})";

const std::string kSse =
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}],"
    "\"usageMetadata\":{\"promptTokenCount\":5,\"totalTokenCount\":6}}\r\n\r\n"
    "data: "
    "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\"}],"
    "\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2,\"totalTokenCount\":7}}"
    "\r\n\r\n";

void check_json_usage(const TokenUsage& u) {
  CHECK(u.known);
  CHECK(u.prompt == 11);
  CHECK(u.completion == 7);
  CHECK(u.thoughts == 22);
  CHECK(u.cached == 3);
  CHECK(u.total == 40);
}

}  // namespace

TEST_CASE("a whole JSON answer; a usageMetadata text inside a string is not taken") {
  UsageScanner s;
  s.feed(kJson);
  check_json_usage(s.usage());
}

TEST_CASE("every split of the JSON answer into two pieces gives the same usage") {
  for (size_t cut = 0; cut <= kJson.size(); ++cut) {
    CAPTURE(cut);
    UsageScanner s;
    s.feed(std::string_view(kJson).substr(0, cut));
    s.feed(std::string_view(kJson).substr(cut));
    check_json_usage(s.usage());
  }
}

TEST_CASE("byte by byte") {
  UsageScanner s;
  for (char c : kJson) s.feed(std::string_view(&c, 1));
  check_json_usage(s.usage());
}

TEST_CASE("an SSE stream: the last event's usage wins, for every split") {
  for (size_t cut = 0; cut <= kSse.size(); ++cut) {
    CAPTURE(cut);
    UsageScanner s;
    s.feed(std::string_view(kSse).substr(0, cut));
    s.feed(std::string_view(kSse).substr(cut));
    CHECK(s.usage().known);
    CHECK(s.usage().prompt == 5);
    CHECK(s.usage().completion == 2);
    CHECK(s.usage().total == 7);
  }
}

TEST_CASE("a JSON-array stream (no alt=sse)") {
  std::string body =
      "[" + kJson + ",\r\n" +
      R"({"usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 9, "totalTokenCount": 42}})" +
      "]";
  UsageScanner s;
  for (size_t i = 0; i < body.size(); i += 7) s.feed(std::string_view(body).substr(i, 7));
  CHECK(s.usage().total == 42);
  CHECK(s.usage().completion == 9);
}

TEST_CASE("no usage: not known; a long body without usage keeps memory bounded") {
  UsageScanner s;
  for (int i = 0; i < 1000; ++i) s.feed(std::string(1024, 'x'));
  CHECK_FALSE(s.usage().known);
  s.feed(R"({"usageMetadata": {"totalTokenCount": 3}})");
  CHECK(s.usage().known);
  CHECK(s.usage().total == 3);
}

TEST_CASE("only integers at the usage object's top level count; a broken object changes nothing") {
  UsageScanner s;
  s.feed(R"({"usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 9}})");
  s.feed(R"({"usageMetadata": {"promptTokenCount": 1.5, "candidatesTokenCount": "7",
             "thoughtsTokenCount": 18446744073709551615, "cachedContentTokenCount": -2,
             "totalTokenCount": 30, "totalTokenCount": 31,
             "details": {"promptTokenCount": 99, "list": [{"totalTokenCount": 98}]}}})");
  CHECK(s.usage().known);
  CHECK(s.usage().prompt == 0);      // a double is not a count
  CHECK(s.usage().completion == 0);  // nor a string
  CHECK(s.usage().thoughts == 0);    // nor a number beyond int64
  CHECK(s.usage().cached == -2);
  CHECK(s.usage().total == 30);  // the first of a repeated name; nested ones are not read
  s.feed(R"({"usageMetadata": {"promptTokenCount": 5, "totalTokenCount": tru}})");
  CHECK(s.usage().total == 30);  // not JSON: the previous usage stands
  CHECK(s.usage().cached == -2);
}

TEST_CASE("every split of an SSE stream into three pieces gives the last event's usage") {
  // Pieces are scanned where they lie while nothing is carried, and joined to a carried tail
  // otherwise: both ways, at every pair of cuts, find the same usage.
  for (size_t a = 0; a <= kSse.size(); a += 3) {
    for (size_t b = a; b <= kSse.size(); b += 5) {
      UsageScanner s;
      s.feed(std::string_view(kSse).substr(0, a));
      s.feed(std::string_view(kSse).substr(a, b - a));
      s.feed(std::string_view(kSse).substr(b));
      REQUIRE(s.usage().known);
      CHECK(s.usage().completion == 2);
      CHECK(s.usage().total == 7);
    }
  }
}
