// Golden cases of the Responses translator, in golden/:
//   requests/<name>.json   {"request", "prior"? (items of previous_response_id), then either
//                           "gemini": {"path", "body"} (+ "input_items"?) or
//                           "error": {"status", "param"?, "code"?}}
//   responses/<name>.json  {"request", "gemini" (the upstream answer), "response",
//                           "output_items"} or {"request", "gemini", "error"}
//   streams/<name>/        case.json {"request", "fail"?}, gemini.sse (upstream bytes as sent),
//                          events.json (the expected events, in order)
// The seal is a readable stand-in ("sealed:" + payload). Every stream is fed whole, split in two
// at every offset and one byte at a time; all must give byte-identical output.
// GOLDEN_UPDATE=1 rewrites the expected parts from the actual output (review the diff!).
#include "tests/unit/filters/openai/translate/golden.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "filters/responses/translate/responses_request.h"
#include "filters/responses/translate/responses_response.h"

namespace gemgate::responses::test {

using openai::test::golden_entries;
using openai::test::json_diff;
using openai::test::load_json;
using openai::test::parse_or_fail;
using openai::test::read_file;
using openai::test::to_json;

namespace {

ReasoningSeal test_seal() {
  ReasoningSeal s;
  s.seal = [](std::string_view p) { return "sealed:" + std::string(p); };
  s.open = [](std::string_view t) -> std::optional<std::string> {
    if (!t.starts_with("sealed:")) return std::nullopt;
    return std::string(t.substr(7));
  };
  return s;
}

const ResponseMeta kMeta{"resp_test", 1700000000};

bool updating() {
  const char* v = std::getenv("GOLDEN_UPDATE");
  return v && *v == '1';
}

void write_pretty(const std::filesystem::path& p, const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 1);
  v.Accept(w);
  std::ofstream(p) << buf.GetString() << "\n";
}

// Sets doc[key] = JSON `text` (update mode).
void set_json(rapidjson::Document& doc, const char* key, std::string_view text) {
  rapidjson::Document v;
  parse_or_fail(text, v, key);
  rapidjson::Value copy(v, doc.GetAllocator());
  if (doc.HasMember(key)) doc.RemoveMember(key);
  doc.AddMember(rapidjson::Value(key, doc.GetAllocator()), copy, doc.GetAllocator());
}

// {"status","param"?,"code"?} of `e`, compared with the case (the message is not compared).
std::string error_diff(const rapidjson::Value& expected, const OpenAIError& e) {
  std::string d;
  if (expected["status"].GetInt() != e.status) d += "status " + std::to_string(e.status) + "; ";
  if (expected.HasMember("param") != e.param.has_value() ||
      (e.param && *e.param != expected["param"].GetString())) {
    d += "param " + e.param.value_or("(none)") + "; ";
  }
  if (expected.HasMember("code") && (!e.code || *e.code != expected["code"].GetString())) {
    d += "code " + e.code.value_or("(none)") + "; ";
  }
  return d.empty() ? d : d + "message: " + e.message;
}

std::string error_summary(const OpenAIError& e) {
  std::string out = "{\"status\":" + std::to_string(e.status);
  if (e.param) out += ",\"param\":\"" + *e.param + "\"";
  if (e.code) out += ",\"code\":\"" + *e.code + "\"";
  return out + "}";
}

// The whole pipeline for a case's request: prepare + finish.
Expected<GeminiCall> translate(const rapidjson::Value& c) {
  std::string prior = c.HasMember("prior") ? to_json(c["prior"]) : "";
  auto prep = prepare_request(to_json(c["request"]), prior, test_seal(), "test");
  if (!prep) return prep.error();
  return finish_request(*prep, {});
}

ResponsesContext context_of(const rapidjson::Value& c) {
  auto call = translate(c);
  REQUIRE_MESSAGE(call.has_value(), "the case's request translates");
  return call->context;
}

// Parses "event: t\ndata: {...}\n\n" blocks into a JSON array text; checks the framing and
// that each event's type matches its event line.
std::string events_array(const std::string& sse) {
  std::string out = "[";
  size_t pos = 0;
  bool first = true;
  while (pos < sse.size()) {
    size_t end = sse.find("\n\n", pos);
    REQUIRE_MESSAGE(end != std::string::npos, "every event ends with a blank line");
    std::string block = sse.substr(pos, end - pos);
    pos = end + 2;
    REQUIRE(block.starts_with("event: "));
    size_t nl = block.find('\n');
    REQUIRE(nl != std::string::npos);
    std::string type = block.substr(7, nl - 7);
    REQUIRE(block.substr(nl + 1).starts_with("data: "));
    std::string data = block.substr(nl + 7);
    rapidjson::Document d;
    parse_or_fail(data, d, "event data");
    REQUIRE(d.IsObject());
    CHECK(std::string(d["type"].GetString()) == type);
    out += first ? "" : ",";
    out += data;
    first = false;
  }
  return out + "]";
}

std::string run_stream(const ResponsesContext& ctx, const rapidjson::Value& c,
                       const std::vector<std::string_view>& pieces) {
  ResponsesStreamTranslator t(ctx, kMeta, test_seal());
  std::string out;
  for (auto p : pieces) t.feed(p, out);
  if (c.HasMember("fail")) {
    OpenAIError e = OpenAIError::bad_upstream(c["fail"]["message"].GetString());
    t.fail(e, out);
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

}  // namespace

TEST_CASE("golden: Responses requests") {
  auto files = golden_entries("requests");
  CHECK(files.size() >= 10);
  for (const auto& f : files) {
    CAPTURE(f.filename().string());
    rapidjson::Document c;
    load_json(f, c);
    auto call = translate(c);
    if (updating()) {
      if (call) {
        set_json(c, "gemini", "{\"path\":\"" + call->path + "\",\"body\":" + call->body + "}");
      } else {
        set_json(c, "error", error_summary(call.error()));
      }
      write_pretty(f, c);
      continue;
    }
    if (c.HasMember("error")) {
      REQUIRE_MESSAGE(!call.has_value(), "expected an error");
      std::string d = error_diff(c["error"], call.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(call.has_value(), call.error().message);
    CHECK(call->path == std::string(c["gemini"]["path"].GetString()));
    rapidjson::Document body;
    parse_or_fail(call->body, body, "gemini body");
    std::string d = json_diff(c["gemini"]["body"], body);
    CHECK_MESSAGE(d == "", d << "\nactual: " << call->body);
  }
}

TEST_CASE("golden: Responses answers") {
  auto files = golden_entries("responses");
  CHECK(files.size() >= 6);
  for (const auto& f : files) {
    CAPTURE(f.filename().string());
    rapidjson::Document c;
    load_json(f, c);
    ResponsesContext ctx = context_of(c);
    auto out = translate_response(to_json(c["gemini"]), ctx, kMeta, test_seal());
    if (updating()) {
      if (out) {
        set_json(c, "response", out->response_json);
        set_json(c, "output_items", out->output_items_json);
      } else {
        set_json(c, "error", error_summary(out.error()));
      }
      write_pretty(f, c);
      continue;
    }
    if (c.HasMember("error")) {
      REQUIRE(!out.has_value());
      std::string d = error_diff(c["error"], out.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(out.has_value(), out.error().message);
    rapidjson::Document r;
    parse_or_fail(out->response_json, r, "response");
    std::string d = json_diff(c["response"], r);
    CHECK_MESSAGE(d == "", d << "\nactual: " << out->response_json);
    rapidjson::Document items;
    parse_or_fail(out->output_items_json, items, "output items");
    d = json_diff(c["output_items"], items);
    CHECK_MESSAGE(d == "", d << "\nactual: " << out->output_items_json);
  }
}

TEST_CASE("golden: Responses streams, every split point") {
  auto dirs = golden_entries("streams", true);
  CHECK(dirs.size() >= 6);
  for (const auto& dir : dirs) {
    CAPTURE(dir.filename().string());
    rapidjson::Document c;
    load_json(dir / "case.json", c);
    ResponsesContext ctx = context_of(c);
    std::string input = read_file(dir / "gemini.sse");
    std::string whole = run_stream(ctx, c, {input});
    std::string actual = events_array(whole);
    if (updating()) {
      rapidjson::Document a;
      parse_or_fail(actual, a, "events");
      write_pretty(dir / "events.json", a);
      continue;
    }
    rapidjson::Document expected;
    load_json(dir / "events.json", expected);
    rapidjson::Document a;
    parse_or_fail(actual, a, "events");
    std::string d = json_diff(expected, a);
    REQUIRE_MESSAGE(d == "", d << "\nactual:\n" << whole);
    for (size_t cut = 0; cut <= input.size(); ++cut) {
      std::string_view in(input);
      REQUIRE_MESSAGE(run_stream(ctx, c, {in.substr(0, cut), in.substr(cut)}) == whole,
                      "split at " << cut);
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < input.size(); ++i) bytes.push_back(std::string_view(input).substr(i, 1));
    CHECK(run_stream(ctx, c, bytes) == whole);
  }
}

TEST_CASE("hostile: every golden request cut at every byte, and answers cut likewise") {
  // Truncated JSON must give a 400, never a crash or a half-translated call.
  for (const auto& f : golden_entries("requests")) {
    CAPTURE(f.filename().string());
    rapidjson::Document c;
    load_json(f, c);
    const std::string body = to_json(c["request"]);
    for (size_t cut = 0; cut < body.size(); ++cut) {
      auto prep = prepare_request(std::string_view(body).substr(0, cut), "", test_seal(), "t");
      REQUIRE_FALSE(prep.has_value());
      CHECK(prep.error().status == 400);
    }
  }
  for (const auto& f : golden_entries("responses")) {
    CAPTURE(f.filename().string());
    rapidjson::Document c;
    load_json(f, c);
    ResponsesContext ctx = context_of(c);
    const std::string answer = to_json(c["gemini"]);
    for (size_t cut = 0; cut < answer.size(); ++cut) {
      auto out =
          translate_response(std::string_view(answer).substr(0, cut), ctx, kMeta, test_seal());
      REQUIRE_FALSE(out.has_value());
      CHECK(out.error().status == 502);
    }
  }
}

TEST_CASE("hostile: a stored history that is not an item array is refused, not trusted") {
  rapidjson::Document c;
  parse_or_fail(R"({"model":"gemini-2.5-flash","input":"hi"})", c, "c");
  auto prep = prepare_request(to_json(c), R"({"not":"an array"})", test_seal(), "t");
  REQUIRE_FALSE(prep.has_value());
  CHECK(prep.error().status == 502);
  prep = prepare_request(to_json(c), R"([{"type":"message","role":"root","content":"x"}])",
                         test_seal(), "t");
  REQUIRE_FALSE(prep.has_value());
  CHECK(*prep.error().param == "previous_response_id.role");
}

TEST_CASE("a stream that fails before any answer leaves only error(), no events") {
  rapidjson::Document c;
  parse_or_fail(R"({"request":{"model":"gemini-2.5-flash","input":"hi","stream":true}})", c, "c");
  ResponsesStreamTranslator t(context_of(c), kMeta, test_seal());
  std::string out;
  t.feed(
      "data: {\"error\":{\"code\":429,\"message\":\"quota\",\"status\":\"RESOURCE_EXHAUSTED\"}}"
      "\n\n",
      out);
  CHECK(out.empty());
  CHECK(t.failed());
  CHECK_FALSE(t.started());
  REQUIRE(t.error());
  CHECK(t.error()->status == 429);
}

}  // namespace gemgate::responses::test
