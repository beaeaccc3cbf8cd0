// Golden cases golden/responses/*.json: the OpenAI request (for its context), a Gemini
// generateContent reply → the expected chat.completion (or error).
#include <doctest/doctest.h>

#include "case_util.h"

namespace gemgate::openai::test {

TEST_CASE("golden: chat responses") {
  auto files = golden_entries("responses");
  CHECK(files.size() >= 20);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    rapidjson::Document c;
    load_json(file, c);
    ChatContext ctx = context_of(c);
    auto res = translate_chat_response(request_text(c, "gemini"), ctx, meta_of(c));
    if (c.HasMember("expected_error")) {
      REQUIRE_MESSAGE(!res.has_value(), "expected an error, got " << res->body);
      auto d = error_diff(c["expected_error"], res.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(res.has_value(), res.error().to_json());
    rapidjson::Document got;
    parse_or_fail(res->body, got, "response");
    auto d = json_diff(c["expected"], got);
    CHECK_MESSAGE(d == "", d << "\nactual:\n" << to_json(got, true));
  }
}

TEST_CASE("response usage is returned for billing") {
  ChatContext ctx;
  ctx.model = "gemini-2.5-flash";
  auto res = translate_chat_response(
      R"({"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}],
          "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":44,"thoughtsTokenCount":186,
                           "totalTokenCount":235,"cachedContentTokenCount":3}})",
      ctx, {"chatcmpl-x", 1});
  REQUIRE(res.has_value());
  CHECK(res->usage.prompt_tokens == 5);
  CHECK(res->usage.completion_tokens == 230);
  CHECK(res->usage.total_tokens == 235);
  CHECK(res->usage.reasoning_tokens == 186);
  CHECK(res->usage.cached_tokens == 3);
}

}  // namespace gemgate::openai::test
