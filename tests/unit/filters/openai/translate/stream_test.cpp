// Golden cases golden/streams/<name>/: case.json (the OpenAI request, optional meta, optional
// "fail" — an error the caller reports after the input), gemini.sse (upstream bytes, exactly as
// sent) and openai.sse (the expected output). Every case is fed whole, split in two at every
// offset, and one byte at a time; all must give byte-identical output equal to openai.sse.
#include <doctest/doctest.h>

#include "case_util.h"

namespace gemgate::openai::test {

namespace {

struct StreamCase {
  ChatContext ctx;
  ResponseMeta meta;
  std::optional<OpenAIError> fail;
};

// Runs the translator over `pieces` of the input, then finish() (or fail()).
std::string run(const StreamCase& sc, const std::vector<std::string_view>& pieces) {
  ChatStreamTranslator t(sc.ctx, sc.meta);
  std::string out;
  for (auto p : pieces) t.feed(p, out);
  if (sc.fail) {
    t.fail(*sc.fail, out);
  } else {
    t.finish(out);
  }
  CHECK(t.done());
  // Nothing more once done.
  std::string after;
  t.feed("data: {\"candidates\":[]}\n\n", after);
  t.finish(after);
  CHECK(after.empty());
  return out;
}

}  // namespace

TEST_CASE("golden: chat streams, every split point") {
  auto dirs = golden_entries("streams", true);
  CHECK(dirs.size() >= 15);
  for (const auto& dir : dirs) {
    CAPTURE(dir.filename().string());
    rapidjson::Document c;
    load_json(dir / "case.json", c);
    StreamCase sc{context_of(c), meta_of(c), std::nullopt};
    if (c.HasMember("fail")) {
      OpenAIError e;
      e.status = c["fail"]["status"].GetInt();
      e.type = c["fail"]["type"].GetString();
      e.message = c["fail"]["message"].GetString();
      e.code = c["fail"]["code"].GetString();
      sc.fail = e;
    }
    std::string input = read_file(dir / "gemini.sse");
    std::string expected = read_file(dir / "openai.sse");

    std::string whole = run(sc, {input});
    auto d = sse_diff(expected, whole);
    REQUIRE_MESSAGE(d == "", d << "\nactual:\n" << whole);

    for (size_t cut = 0; cut <= input.size(); ++cut) {
      std::string_view in(input);
      std::string split = run(sc, {in.substr(0, cut), in.substr(cut)});
      REQUIRE_MESSAGE(split == whole, "split at " << cut);
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < input.size(); ++i) bytes.push_back(std::string_view(input).substr(i, 1));
    CHECK(run(sc, bytes) == whole);
  }
}

TEST_CASE("stream usage() tracks the last cumulative usageMetadata") {
  ChatContext ctx;
  ctx.model = "m";
  ChatStreamTranslator t(ctx, {"chatcmpl-u", 1});
  std::string out;
  t.feed(
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],"
      "\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":1,\"totalTokenCount\":4}}"
      "\n\n",
      out);
  t.feed(
      "data: "
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]},\"finishReason\":\"STOP\"}],"
      "\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2,\"totalTokenCount\":5}}"
      "\n\n",
      out);
  CHECK(t.usage().completion_tokens == 2);
  CHECK(t.usage().total_tokens == 5);
  t.finish(out);
  CHECK(out.find("\"usage\"") == std::string::npos);  // include_usage off: no usage key at all
  CHECK(out.ends_with("data: [DONE]\n\n"));
}

TEST_CASE("stream: started() and error() tell whether an HTTP error can still replace the stream") {
  ChatContext ctx;
  ctx.model = "m";
  {
    ChatStreamTranslator t(ctx, {"chatcmpl-e", 1});
    std::string out;
    t.feed(
        "data: {\"error\":{\"code\":429,\"message\":\"slow "
        "down\",\"status\":\"RESOURCE_EXHAUSTED\"}}\n\n",
        out);
    REQUIRE(t.failed());
    CHECK_FALSE(t.started());
    REQUIRE(t.error() != nullptr);
    CHECK(t.error()->status == 429);
    CHECK(out == t.error()->to_sse());
  }
  {
    ChatStreamTranslator t(ctx, {"chatcmpl-e", 1});
    std::string out;
    t.feed("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\n", out);
    CHECK(t.started());
    CHECK(t.error() == nullptr);
    OpenAIError e;
    e.status = 504;
    e.type = "server_error";
    e.message = "timeout";
    t.fail(e, out);
    CHECK(t.failed());
    CHECK(out.ends_with(e.to_sse()));
  }
}

TEST_CASE("stream: an oversized event fails the stream") {
  ChatContext ctx;
  ctx.model = "m";
  ChatStreamTranslator t(ctx, {"chatcmpl-big", 1}, 64);
  std::string out;
  t.feed("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"", out);
  t.feed(std::string(100, 'x'), out);
  CHECK(t.failed());
  CHECK(out.find("bad_upstream_response") != std::string::npos);
  CHECK(out.find("[DONE]") == std::string::npos);
}

}  // namespace gemgate::openai::test
