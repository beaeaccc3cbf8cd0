// The Responses front through the C ABI (stateless): the translator's golden streams at every
// split point, a whole answer, previous_response_id refused, and the reasoning seal — a thought
// signature comes back only under the seal key that sealed it.
#include <cstring>
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>
#include <vector>

#include "tests/unit/capi/capi_util.h"
#include "tests/unit/filters/openai/translate/golden.h"

namespace gemgate::capi::test {
namespace {

namespace g = openai::test;

Exchange responses_exchange(const std::string& body, const char* seal_key = nullptr) {
  Exchange x = new_exchange(GEMGATE_FRONT_OPENAI_RESPONSES);
  REQUIRE(x);
  REQUIRE(gemgate_exchange_set_response_id(x.get(), "resp_test", 1700000000) == GEMGATE_OK);
  if (seal_key != nullptr) {
    REQUIRE(gemgate_exchange_set_seal_key(x.get(), seal_key, strlen(seal_key)) == GEMGATE_OK);
  }
  REQUIRE_MESSAGE(gemgate_exchange_request(x.get(), body.data(), body.size()) == GEMGATE_OK,
                  gemgate_last_error());
  return x;
}

std::string run(const gemgate_exchange* x, const std::vector<std::string_view>& pieces, bool fail) {
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
  REQUIRE((fail ? gemgate_stream_fail(s.get(), 502, "broke", &buf, &len)
                : gemgate_stream_finish(s.get(), &buf, &len)) == GEMGATE_OK);
  out += take(buf, len);
  CHECK(gemgate_stream_done(s.get()) == 1);
  return out;
}

// "event: t\ndata: {...}\n\n" blocks → a JSON array of the data objects.
std::string events_array(const std::string& sse) {
  std::string out = "[";
  for (size_t pos = 0; pos < sse.size();) {
    size_t end = sse.find("\n\n", pos);
    REQUIRE(end != std::string::npos);
    std::string block = sse.substr(pos, end - pos);
    pos = end + 2;
    size_t data = block.find("\ndata: ");
    REQUIRE(data != std::string::npos);
    out += (out.size() > 1 ? "," : "") + block.substr(data + 7);
  }
  return out + "]";
}

const char* kSignedCall =
    R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"lookup",)"
    R"("args":{"q":"x"}},"thoughtSignature":"c2lnbmF0dXJl"}]},"finishReason":"STOP"}]})";

std::string answer(gemgate_exchange* x, int status, const std::string& body, int* client_status) {
  char* buf = nullptr;
  size_t len = 0;
  REQUIRE(gemgate_exchange_response(x, status, body.data(), body.size(), client_status, &buf,
                                    &len) == GEMGATE_OK);
  return take(buf, len);
}

// The next turn's request: the items of `response_json`'s output, then the tool's result.
std::string next_turn(const std::string& response_json) {
  rapidjson::Document r;
  r.Parse(response_json.c_str());
  REQUIRE(r.IsObject());
  std::string items = R"([{"role":"user","content":"Look x up"})";
  std::string call_id;
  for (auto& item : r["output"].GetArray()) {
    items += "," + g::to_json(item);
    if (std::string(item["type"].GetString()) == "function_call") {
      call_id = item["call_id"].GetString();
    }
  }
  REQUIRE(!call_id.empty());
  items += R"(,{"type":"function_call_output","call_id":")" + call_id + R"(","output":"found"}])";
  return R"({"model":"gemini-3-pro-preview","include":["reasoning.encrypted_content"],)"
         R"("tools":[{"type":"function","name":"lookup","parameters":{"type":"object"}}],"input":)" +
         items + "}";
}

}  // namespace

TEST_CASE("Responses golden streams through the C ABI, every split point") {
  auto dirs = g::golden_entries("../../../responses/translate/golden/streams", true);
  REQUIRE(dirs.size() >= 6);
  int compared = 0;
  for (const auto& dir : dirs) {
    CAPTURE(dir.filename().string());
    rapidjson::Document c;
    g::load_json(dir / "case.json", c);
    Exchange x = responses_exchange(g::to_json(c["request"]));
    bool fail = c.HasMember("fail");
    std::string input = g::read_file(dir / "gemini.sse");
    std::string whole = run(x.get(), {input}, fail);
    std::string events = g::read_file(dir / "events.json");
    // The golden files use a readable stand-in seal and the translator's own failure error;
    // the other cases must match event for event.
    if (!fail && events.find("sealed:") == std::string::npos) {
      rapidjson::Document expected, actual;
      g::parse_or_fail(events, expected, "events.json");
      g::parse_or_fail(events_array(whole), actual, "events");
      std::string d = g::json_diff(expected, actual);
      REQUIRE_MESSAGE(d == "", d << "\nactual:\n" << whole);
      ++compared;
    }
    for (size_t cut = 0; cut <= input.size(); ++cut) {
      std::string_view in(input);
      REQUIRE_MESSAGE(run(x.get(), {in.substr(0, cut), in.substr(cut)}, fail) == whole,
                      "split at " << cut);
    }
  }
  CHECK(compared >= 4);
}

TEST_CASE("Responses: a whole answer, an error, previous_response_id refused") {
  Exchange x =
      responses_exchange(R"({"model":"gemini-2.5-flash","input":"Hi","instructions":"Be brief"})");
  CHECK(std::string(gemgate_exchange_upstream_path(x.get())) ==
        "/v1beta/models/gemini-2.5-flash:generateContent");
  CHECK(std::string(gemgate_exchange_upstream_body(x.get(), nullptr)).find("Be brief") !=
        std::string::npos);
  int status = 0;
  std::string body =
      answer(x.get(), 200,
             R"({"candidates":[{"content":{"parts":[{"text":"Hello"}]},"finishReason":"STOP"}]})",
             &status);
  CHECK(status == 200);
  rapidjson::Document d;
  d.Parse(body.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["id"].GetString()) == "resp_test");
  CHECK(std::string(d["object"].GetString()) == "response");
  CHECK(std::string(d["status"].GetString()) == "completed");
  body = answer(x.get(), 429, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}})", &status);
  CHECK(status == 429);
  CHECK(body.find("rate_limit_error") != std::string::npos);

  // Without a fixed id: a random "resp_" one.
  Exchange z = new_exchange(GEMGATE_FRONT_OPENAI_RESPONSES);
  std::string plain = R"({"model":"gemini-2.5-flash","input":"Hi"})";
  REQUIRE(gemgate_exchange_request(z.get(), plain.data(), plain.size()) == GEMGATE_OK);
  body = answer(z.get(), 200,
                R"({"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}]})",
                &status);
  CHECK(body.find(R"("id":"resp_)") != std::string::npos);

  Exchange y = new_exchange(GEMGATE_FRONT_OPENAI_RESPONSES);
  std::string chained =
      R"({"model":"gemini-2.5-flash","input":"more","previous_response_id":"resp_abc"})";
  CHECK(gemgate_exchange_request(y.get(), chained.data(), chained.size()) == GEMGATE_REJECTED);
  CHECK(gemgate_exchange_error_status(y.get()) == 400);
  CHECK(std::string(gemgate_exchange_error_body(y.get())).find("previous_response_id") !=
        std::string::npos);
  CHECK(gemgate_exchange_set_seal_key(y.get(), "short", 5) == GEMGATE_INVALID_ARGUMENT);
}

TEST_CASE("Responses: a thought signature comes back only under the same seal key") {
  const char* key = "a-seal-key-of-32-bytes-0123456789";
  std::string first =
      R"({"model":"gemini-3-pro-preview","input":"Look x up","include":["reasoning.encrypted_content"],)"
      R"("tools":[{"type":"function","name":"lookup","parameters":{"type":"object"}}]})";
  Exchange x = responses_exchange(first, key);
  int status = 0;
  std::string response = answer(x.get(), 200, kSignedCall, &status);
  REQUIRE(status == 200);
  CHECK(response.find("encrypted_content") != std::string::npos);
  CHECK(response.find("c2lnbmF0dXJl") == std::string::npos);  // sealed, not in clear

  std::string next = next_turn(response);
  Exchange same = responses_exchange(next, key);
  std::string sent = gemgate_exchange_upstream_body(same.get(), nullptr);
  CHECK(sent.find(R"("thoughtSignature":"c2lnbmF0dXJl")") != std::string::npos);

  Exchange other = responses_exchange(next, "another-seal-key-0123456789abcdef");
  sent = gemgate_exchange_upstream_body(other.get(), nullptr);
  CHECK(sent.find("c2lnbmF0dXJl") == std::string::npos);  // not opened: never forwarded
}

}  // namespace gemgate::capi::test
