// Golden cases of the Anthropic translator, under golden/:
//   requests/<name>.json   {"request": <Messages body>, "count_tokens"?: true, "media"?: {url:
//                          {mime_type, bytes}}, "expected": {"path","body"} | "error": {"status",
//                          "type"}}
//   responses/<name>.json  {"context": {"model"}, "gemini": <generateContent answer>,
//                          "expected": <Messages response>} (message id "msg_test")
//   streams/<name>/        case.json {"context": {"model"}, "fail"?: {status, message}},
//                          gemini.sse (upstream bytes) and anthropic.sse (the expected events);
//                          fed whole, split in two at every offset and one byte at a time, all
//                          must give byte-identical output
//   errors/<name>.json     {"status": <upstream HTTP status>, "gemini": <body>, "expected":
//                          {"status","body"}}
// GOLDEN_UPDATE=1 writes what the translator produces where an expectation is missing (review
// it before committing).
#include "tests/unit/filters/openai/translate/golden.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>

#include "filters/anthropic/translate/detail/content.h"
#include "filters/anthropic/translate/translate.h"

namespace gemgate::anthropic {

namespace {

namespace g = openai::test;

MessagesContext context_of(const rapidjson::Value& c) {
  MessagesContext ctx;
  ctx.model = c["context"]["model"].GetString();
  ctx.stream = true;
  return ctx;
}

std::string run_stream(const MessagesContext& ctx, const std::optional<AnthropicError>& fail,
                       const std::vector<std::string_view>& pieces) {
  MessagesStreamTranslator t(ctx, "msg_test");
  std::string out;
  for (auto p : pieces) t.feed(p, out);
  if (fail) {
    t.fail(*fail, out);
  } else {
    t.finish(out);
  }
  CHECK(t.done());
  std::string after;
  t.feed("data: {\"candidates\":[]}\n\n", after);
  t.finish(after);
  CHECK(after.empty());
  return out;
}

bool update() {
  const char* u = std::getenv("GOLDEN_UPDATE");
  return u && *u == '1';
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("golden: Messages requests → Gemini requests") {
  auto files = g::golden_entries("requests");
  CHECK(files.size() >= 10);
  for (const auto& f : files) {
    CAPTURE(f.filename().string());
    rapidjson::Document c;
    g::load_json(f, c);
    MediaMap media;
    if (c.HasMember("media")) {
      for (auto& m : c["media"].GetObject())
        media[m.name.GetString()] = {m.value["mime_type"].GetString(),
                                     m.value["bytes"].GetString()};
    }
    std::string body = g::to_json(c["request"]);
    bool count = c.HasMember("count_tokens");
    auto r = count ? translate_count_tokens_request(body, media)
                   : translate_messages_request(body, media);
    if (c.HasMember("error")) {
      REQUIRE_MESSAGE(!r, "expected an error, got " << (r ? r->body : ""));
      CHECK(r.error().status == c["error"]["status"].GetInt());
      CHECK(r.error().type == c["error"]["type"].GetString());
      if (c["error"].HasMember("message_has"))
        CHECK_MESSAGE(
            r.error().message.find(c["error"]["message_has"].GetString()) != std::string::npos,
            r.error().message);
      continue;
    }
    REQUIRE_MESSAGE(r, r.error().message);
    CHECK(r->path == c["expected"]["path"].GetString());
    rapidjson::Document actual;
    g::parse_or_fail(r->body, actual, "translated body");
    std::string d = g::json_diff(c["expected"]["body"], actual);
    CHECK_MESSAGE(d == "", d << "\nactual: " << r->body);
  }
}

TEST_CASE("golden: Gemini answers → Messages responses") {
  auto files = g::golden_entries("responses");
  CHECK(files.size() >= 5);
  for (const auto& f : files) {
    CAPTURE(f.filename().string());
    rapidjson::Document c;
    g::load_json(f, c);
    MessagesContext ctx;
    ctx.model = c["context"]["model"].GetString();
    auto r = translate_messages_response(g::to_json(c["gemini"]), ctx, "msg_test");
    REQUIRE_MESSAGE(r, r.error().message);
    rapidjson::Document actual;
    g::parse_or_fail(r->body, actual, "response");
    if (update() && !c.HasMember("expected")) {
      c.AddMember("expected", rapidjson::Value(actual, c.GetAllocator()), c.GetAllocator());
      write(f, g::to_json(c, true) + "\n");
    }
    std::string d = g::json_diff(c["expected"], actual);
    CHECK_MESSAGE(d == "", d << "\nactual: " << r->body);
  }
}

TEST_CASE("golden: streams, every split point") {
  auto dirs = g::golden_entries("streams", true);
  CHECK(dirs.size() >= 6);
  for (const auto& dir : dirs) {
    CAPTURE(dir.filename().string());
    rapidjson::Document c;
    g::load_json(dir / "case.json", c);
    MessagesContext ctx = context_of(c);
    std::optional<AnthropicError> fail;
    if (c.HasMember("fail"))
      fail = error_for_status(c["fail"]["status"].GetInt(), c["fail"]["message"].GetString());
    std::string input = g::read_file(dir / "gemini.sse");
    std::string whole = run_stream(ctx, fail, {input});
    if (update() && !std::filesystem::exists(dir / "anthropic.sse"))
      write(dir / "anthropic.sse", whole);
    std::string expected = g::read_file(dir / "anthropic.sse");
    REQUIRE_MESSAGE(whole == expected, "actual:\n" << whole);
    for (size_t cut = 0; cut <= input.size(); ++cut) {
      std::string_view in(input);
      REQUIRE_MESSAGE(run_stream(ctx, fail, {in.substr(0, cut), in.substr(cut)}) == whole,
                      "split at " << cut);
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < input.size(); ++i) bytes.push_back(std::string_view(input).substr(i, 1));
    CHECK(run_stream(ctx, fail, bytes) == whole);
  }
}

TEST_CASE("golden: Gemini errors → Anthropic errors") {
  auto files = g::golden_entries("errors");
  CHECK(files.size() >= 4);
  for (const auto& f : files) {
    CAPTURE(f.filename().string());
    rapidjson::Document c;
    g::load_json(f, c);
    std::string body = c["gemini"].IsString() ? c["gemini"].GetString() : g::to_json(c["gemini"]);
    AnthropicError e = translate_gemini_error(c["status"].GetInt(), body);
    if (update() && !c.HasMember("expected")) {
      rapidjson::Document b;
      g::parse_or_fail(e.to_json(), b, "error");
      rapidjson::Value x(rapidjson::kObjectType);
      x.AddMember("status", e.status, c.GetAllocator());
      x.AddMember("body", rapidjson::Value(b, c.GetAllocator()), c.GetAllocator());
      c.AddMember("expected", x, c.GetAllocator());
      write(f, g::to_json(c, true) + "\n");
    }
    CHECK(e.status == c["expected"]["status"].GetInt());
    rapidjson::Document actual;
    g::parse_or_fail(e.to_json(), actual, "error");
    std::string d = g::json_diff(c["expected"]["body"], actual);
    CHECK_MESSAGE(d == "", d << "\nactual: " << e.to_json());
  }
}

TEST_CASE("tool_use ids carry a signature with any base64 character, and give it back") {
  std::string sig = "ab+/cd==";
  std::string id = detail::make_tool_use_id("toolu_1", sig);
  CHECK(id == "toolu_1__thought__ab-_cd");
  auto back = detail::split_tool_use_id(id);
  CHECK(back.base == "toolu_1");
  CHECK(back.signature == sig);
  CHECK(detail::split_tool_use_id("toolu_plain").signature.empty());
}

TEST_CASE("hostile input: not JSON, wrong types, deep nesting are clear 400s") {
  for (std::string body : std::vector<std::string>{
           "", "[]", "{", "{\"model\":1}", std::string(500, '[') + std::string(500, ']'),
           "{\"model\":\"m\",\"max_tokens\":1,\"messages\":\"x\"}",
           "{\"model\":\"../etc\",\"max_tokens\":1,\"messages\":[]}"}) {
    CAPTURE(body.substr(0, 40));
    auto r = translate_messages_request(body, {});
    REQUIRE(!r);
    CHECK(r.error().status == 400);
    CHECK(r.error().type == "invalid_request_error");
  }
}

}  // namespace gemgate::anthropic

namespace gemgate::anthropic {

TEST_CASE("ping: only between message_start and the end, always a whole event") {
  MessagesContext ctx;
  ctx.model = "m";
  MessagesStreamTranslator t(ctx, "msg_p");
  std::string out;
  t.ping(out);
  CHECK(out.empty());  // nothing started yet: the head is still held
  t.feed("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n", out);
  CHECK(out.empty());  // the event is not complete yet
  t.ping(out);
  CHECK(out.empty());
  t.feed("\n", out);
  out.clear();
  t.ping(out);
  CHECK(out == "event: ping\ndata: {\"type\":\"ping\"}\n\n");
  out.clear();
  t.finish(out);
  std::string after;
  t.ping(after);
  CHECK(after.empty());
}

}  // namespace gemgate::anthropic
