// Hostile input: nothing may crash, recurse without bound or hang; every failure is an
// OpenAI-shaped error. (Run under -DGEMGATE_SANITIZE=ON to catch memory errors too.)
#include <algorithm>
#include <cstdlib>
#include <doctest/doctest.h>
#include <random>

#include "case_util.h"
#include "mutate.h"

namespace gemgate::openai::test {

namespace {

std::string nested(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// Mutation rounds per input; raise with GEMGATE_FUZZ_ROUNDS for a longer local hunt.
int rounds(int dflt) {
  const char* env = std::getenv("GEMGATE_FUZZ_ROUNDS");
  return env ? std::max(1, std::atoi(env)) : dflt;
}

}  // namespace

TEST_CASE("deeply nested JSON is refused, not recursed into") {
  for (size_t depth : {200u, 100000u}) {
    auto r = translate_chat_request(nested(depth));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().status == 400);
    std::string args =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{"
        "\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"arguments\":\"" +
        std::string(depth, '[') + "\"}}]}]}";
    auto r2 = translate_chat_request(args);
    REQUIRE_FALSE(r2.has_value());
    CHECK(r2.error().param == "messages[0].tool_calls[0].function.arguments");
    CHECK_FALSE(translate_chat_response(nested(depth), ChatContext{}, {}).has_value());
    CHECK(translate_gemini_error(500, nested(depth)).status == 500);
  }
}

TEST_CASE("schema depth and $ref fan-out are bounded") {
  // 60 levels of nested object properties (deeper than kMaxSchemaDepth, shallower than the
  // JSON depth limit).
  std::string deep = R"({"type":"object","properties":{"a":)";
  std::string schema;
  for (int i = 0; i < 60; ++i) schema += deep;
  schema += R"({"type":"string"})";
  for (int i = 0; i < 60; ++i) schema += "}}";
  std::string body =
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":)" +
      schema + "}}]}";
  auto r = translate_chat_request(body);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().param == "tools[0].function.parameters");

  // A "billion laughs" of $refs: each level references the next one twice. Inlining it
  // (OpenAPI mode) would produce 2^30 nodes.
  std::string defs;
  for (int i = 0; i < 30; ++i) {
    defs += (i ? "," : "") + std::string("\"L") + std::to_string(i) +
            R"(":{"type":"object","properties":{"x":{"$ref":"#/$defs/L)" + std::to_string(i + 1) +
            R"("},"y":{"$ref":"#/$defs/L)" + std::to_string(i + 1) + "\"}}}";
  }
  defs += R"(,"L30":{"type":"string"})";
  std::string bomb =
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"b","schema":{"$defs":{)" +
      defs + R"(},"$ref":"#/$defs/L0"}}}})";
  TranslateOptions openapi;
  openapi.schema_mode = SchemaMode::kOpenApi;
  auto b = translate_chat_request(bomb, {}, openapi);
  REQUIRE_FALSE(b.has_value());
  CHECK(b.error().param == "response_format.json_schema.schema");
  // The JSON-Schema mode keeps $refs as references: fine.
  CHECK(translate_chat_request(bomb).has_value());

  // Few nodes but many bytes: a 300 KB description inlined 40 times (OpenAPI mode), or copied
  // by allOf merges through a chain L_i = allOf[L_(i-1), L_(i-1)] (both modes).
  std::string big(300000, 'd');
  std::string props, chain;
  for (int i = 0; i < 40; ++i) {
    props += (i ? "," : "") + std::string("\"p") + std::to_string(i) + R"(":{"$ref":"#/$defs/L0"})";
  }
  for (int i = 1; i <= 20; ++i) {
    std::string prev = "{\"$ref\":\"#/$defs/L" + std::to_string(i - 1) + "\"}";
    chain += ",\"L" + std::to_string(i) + "\":{\"allOf\":[" + prev + "," + prev + "]}";
  }
  std::string head =
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","$defs":{"L0":{"type":"object","description":")" +
      big + R"(","properties":{"x":{"type":"string"}}})" + chain + "},";
  auto f = translate_chat_request(head + R"("properties":{)" + props + "}}}}]}", {}, openapi);
  REQUIRE_FALSE(f.has_value());
  CHECK(f.error().param == "tools[0].function.parameters");
  std::string merge = head + R"("properties":{"m":{"allOf":[{"$ref":"#/$defs/L20"}]}}}}}]})";
  for (const auto& mode : {TranslateOptions{}, openapi}) {
    auto m = translate_chat_request(merge, {}, mode);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().param == "tools[0].function.parameters");
  }
}

TEST_CASE("invalid UTF-8 and non-object bodies are 400s") {
  auto r = translate_chat_request(
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().status == 400);
  for (const char* body : {"", "null", "[]", "42", "\"x\"", "{", "{}{}", "{\"model\":1e999}"}) {
    CAPTURE(body);
    auto e = translate_chat_request(body);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().status == 400);
    CHECK_FALSE(plan_embeddings(body).has_value());
  }
}

TEST_CASE("mutated golden inputs never crash any translator") {
  std::mt19937 rng(12345);
  std::vector<std::string> inputs;
  for (const auto& f : golden_entries("requests")) inputs.push_back(read_file(f));
  for (const auto& f : golden_entries("responses")) inputs.push_back(read_file(f));
  ChatContext ctx;
  ctx.model = "m";
  ctx.include_reasoning = ctx.logprobs = ctx.include_usage = true;
  for (int round = 0, n = rounds(20); round < n; ++round) {
    for (const auto& in : inputs) {
      std::string m = mutate(in, rng);
      (void)list_remote_media(m);
      auto r = translate_chat_request(m);
      if (!r) CHECK(r.error().status == 400);
      (void)translate_chat_response(m, ctx, {"id", 1});
      (void)plan_embeddings(m);
      (void)translate_models_list(m);
      (void)translate_gemini_error(429, m);
    }
  }
}

TEST_CASE("mutated golden streams never crash the stream translator") {
  std::mt19937 rng(777);
  ChatContext ctx;
  ctx.model = "m";
  ctx.include_reasoning = ctx.logprobs = ctx.include_usage = true;
  for (const auto& dir : golden_entries("streams", true)) {
    std::string in = read_file(dir / "gemini.sse");
    for (int round = 0, n = rounds(30); round < n; ++round) {
      std::string m = mutate(in, rng);
      ChatStreamTranslator t(ctx, {"id", 1});
      std::string out;
      size_t pos = 0;
      while (pos < m.size()) {
        size_t n = 1 + rng() % 17;
        t.feed(std::string_view(m).substr(pos, n), out);
        pos += n;
      }
      t.finish(out);
      CHECK(t.done());
      std::string framing;
      sse_events(out, &framing);
      CHECK_MESSAGE(framing.empty(), framing);
    }
  }
}

}  // namespace gemgate::openai::test
