// gemgate_stream_* over the translators' golden stream cases: every case fed whole, split in two
// at every offset, and one byte at a time through the C ABI must give the same bytes, equal to
// the golden output (OpenAI: event by event, structurally; Anthropic: byte for byte).
#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <rapidjson/document.h>
#include <vector>

#include "tests/unit/capi/capi_util.h"
#include "tests/unit/filters/openai/translate/golden.h"

namespace gemgate::capi::test {
namespace {

namespace g = openai::test;

// Feeds `pieces` to a stream of `x`, then finish() (or fail(fail_status, fail_message)).
std::string run(const gemgate_exchange* x, const std::vector<std::string_view>& pieces,
                int fail_status = 0, const char* fail_message = nullptr) {
  gemgate_stream* raw = nullptr;
  REQUIRE(gemgate_stream_create(x, &raw) == GEMGATE_OK);
  Stream s(raw);
  std::string out;
  char* buf = nullptr;
  size_t len = 0;
  for (auto p : pieces) {
    REQUIRE(gemgate_stream_feed(s.get(), p.data(), p.size(), &buf, &len) == GEMGATE_OK);
    out += take(buf, len);
  }
  if (fail_status != 0) {
    REQUIRE(gemgate_stream_fail(s.get(), fail_status, fail_message, &buf, &len) == GEMGATE_OK);
  } else {
    REQUIRE(gemgate_stream_finish(s.get(), &buf, &len) == GEMGATE_OK);
  }
  out += take(buf, len);
  CHECK(gemgate_stream_done(s.get()) == 1);
  // Nothing more once done.
  REQUIRE(gemgate_stream_feed(s.get(), "data: {}\n\n", 10, &buf, &len) == GEMGATE_OK);
  CHECK(take(buf, len).empty());
  return out;
}

// Whole, every two-way split and byte by byte: all equal; returns the whole output.
std::string run_every_split(const gemgate_exchange* x, const std::string& input,
                            int fail_status = 0, const char* fail_message = nullptr) {
  std::string whole = run(x, {input}, fail_status, fail_message);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    std::string_view in(input);
    REQUIRE_MESSAGE(run(x, {in.substr(0, cut), in.substr(cut)}, fail_status, fail_message) == whole,
                    "split at " << cut);
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < input.size(); ++i) bytes.push_back(std::string_view(input).substr(i, 1));
  CHECK(run(x, bytes, fail_status, fail_message) == whole);
  return whole;
}

std::vector<std::filesystem::path> dirs_in(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    if (e.is_directory()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("OpenAI golden streams through the C ABI, every split point") {
  auto dirs = g::golden_entries("streams", true);
  REQUIRE(dirs.size() >= 15);
  int compared = 0;
  for (const auto& dir : dirs) {
    CAPTURE(dir.filename().string());
    rapidjson::Document c;
    g::load_json(dir / "case.json", c);
    // Cases that need translator options or downloads the C ABI does not take are left to the
    // translator's own tests; as are caller failures with an error type of the caller's choice.
    if (c.HasMember("options") || c.HasMember("media") || c.HasMember("fail")) continue;
    std::string request =
        c.HasMember("request_raw") ? c["request_raw"].GetString() : g::to_json(c["request"]);
    Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
    REQUIRE(x);
    REQUIRE(gemgate_exchange_request(x.get(), request.data(), request.size()) == GEMGATE_OK);
    REQUIRE(gemgate_exchange_is_stream(x.get()) == 1);
    std::string id = c.HasMember("meta") ? c["meta"]["id"].GetString() : "chatcmpl-test";
    int64_t created = c.HasMember("meta") ? c["meta"]["created"].GetInt64() : 1700000000;
    REQUIRE(gemgate_exchange_set_response_id(x.get(), id.c_str(), created) == GEMGATE_OK);
    std::string whole = run_every_split(x.get(), g::read_file(dir / "gemini.sse"));
    auto d = g::sse_diff(g::read_file(dir / "openai.sse"), whole);
    REQUIRE_MESSAGE(d == "", d << "\nactual:\n" << whole);
    ++compared;
  }
  CHECK(compared >= 12);
}

TEST_CASE("Anthropic golden streams through the C ABI, every split point") {
  auto dirs = dirs_in(std::filesystem::path(ANTHROPIC_GOLDEN_DIR) / "streams");
  REQUIRE(dirs.size() >= 5);
  for (const auto& dir : dirs) {
    CAPTURE(dir.filename().string());
    rapidjson::Document c;
    g::load_json(dir / "case.json", c);
    std::string request =
        std::string(R"({"model":")") + c["context"]["model"].GetString() +
        R"(","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"q"}]})";
    Exchange x = new_exchange(GEMGATE_FRONT_ANTHROPIC_MESSAGES);
    REQUIRE(gemgate_exchange_request(x.get(), request.data(), request.size()) == GEMGATE_OK);
    REQUIRE(gemgate_exchange_set_response_id(x.get(), "msg_test", 0) == GEMGATE_OK);
    int fail_status = 0;
    std::string fail_message;
    if (c.HasMember("fail")) {
      fail_status = c["fail"]["status"].GetInt();
      fail_message = c["fail"]["message"].GetString();
    }
    std::string whole = run_every_split(x.get(), g::read_file(dir / "gemini.sse"), fail_status,
                                        fail_status ? fail_message.c_str() : nullptr);
    REQUIRE_MESSAGE(whole == g::read_file(dir / "anthropic.sse"), "actual:\n" << whole);
  }
}

TEST_CASE("a stream split inside a UTF-8 character gives the same text") {
  std::string request =
      R"({"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"q"}]})";
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  REQUIRE(gemgate_exchange_request(x.get(), request.data(), request.size()) == GEMGATE_OK);
  REQUIRE(gemgate_exchange_set_response_id(x.get(), "chatcmpl-u", 1) == GEMGATE_OK);
  std::string input =
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"h\xc3\xa9llo "
      "\xe4\xb8\x96\xe7\x95\x8c "
      "\xf0\x9f\x98\x80\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n";
  std::string whole = run_every_split(x.get(), input);
  CHECK(whole.find("h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80") != std::string::npos);
  CHECK(whole.find("data: [DONE]") != std::string::npos);
}

TEST_CASE("a Gemini error event first: not started, the error readable as a plain answer") {
  std::string request =
      R"({"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"q"}]})";
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  REQUIRE(gemgate_exchange_request(x.get(), request.data(), request.size()) == GEMGATE_OK);
  gemgate_stream* raw = nullptr;
  REQUIRE(gemgate_stream_create(x.get(), &raw) == GEMGATE_OK);
  Stream s(raw);
  x.reset();  // the stream holds its own copy of the context
  std::string ev =
      R"(data: {"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}})"
      "\n\n";
  char* buf = nullptr;
  size_t len = 0;
  REQUIRE(gemgate_stream_feed(s.get(), ev.data(), ev.size(), &buf, &len) == GEMGATE_OK);
  std::string out = take(buf, len);
  CHECK(out.find("\"error\"") != std::string::npos);
  CHECK(gemgate_stream_done(s.get()) == 1);
  CHECK(gemgate_stream_failed(s.get()) == 1);
  CHECK(gemgate_stream_started(s.get()) == 0);
  CHECK(gemgate_stream_error_status(s.get()) == 429);
  REQUIRE(gemgate_stream_error_body(s.get()) != nullptr);
  CHECK(std::string(gemgate_stream_error_body(s.get())).find("rate_limit_error") !=
        std::string::npos);
}

TEST_CASE("stream functions refuse NULL and a non-stream exchange") {
  char* buf = nullptr;
  size_t len = 0;
  CHECK(gemgate_stream_feed(nullptr, "x", 1, &buf, &len) == GEMGATE_INVALID_ARGUMENT);
  CHECK(gemgate_stream_finish(nullptr, &buf, &len) == GEMGATE_INVALID_ARGUMENT);
  gemgate_stream* s = nullptr;
  CHECK(gemgate_stream_create(nullptr, &s) == GEMGATE_INVALID_ARGUMENT);
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_CHAT);
  CHECK(gemgate_stream_create(x.get(), &s) == GEMGATE_STATE);  // nothing translated yet
  std::string request =
      R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"q"}]})";
  REQUIRE(gemgate_exchange_request(x.get(), request.data(), request.size()) == GEMGATE_OK);
  CHECK(gemgate_stream_create(x.get(), &s) == GEMGATE_STATE);  // not a stream request
  CHECK(s == nullptr);
  CHECK(std::string(gemgate_last_error()).find("stream") != std::string::npos);
  gemgate_stream_destroy(nullptr);
}

}  // namespace gemgate::capi::test
