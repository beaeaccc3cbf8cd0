// The `openai` filter in the production OpenAI chain (log, auth, openai, models, retry, keys,
// upstream; errors: openai) against a scripted transport: routing, each op's Gemini calls and
// answers, and the held stream head — a stream that fails at its first event becomes a plain
// HTTP error in OpenAI's shape, a stream whose first event is data goes on as a stream.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>
#include <vector>

#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

const std::string kChat =
    R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"q"}]})";
const std::string kStreamChat =
    R"({"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"q"}]})";
const std::string kHiEvent =
    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},"
    "\"finishReason\":\"STOP\",\"index\":0}]}\r\n\r\n";
const std::string kQuotaEvent =
    "data: {\"error\":{\"code\":429,\"message\":\"Resource has been exhausted\","
    "\"status\":\"RESOURCE_EXHAUSTED\"}}\r\n\r\n";

// The OpenAI chain, as conf/gemgate.yaml composes it.
std::shared_ptr<const ChainSpec> openai_chain(GatewayFixture& g) {
  ConfigNode root = ConfigNode::map(mk());
  root.put("errors", ConfigNode::scalar("openai", mk(2, 9)));
  ConfigNode list = ConfigNode::sequence(mk(3, 3));
  int line = 4;
  for (const char* name : {"log", "auth", "openai", "models", "retry", "keys", "upstream"}) {
    ConfigNode item = ConfigNode::map(mk(line++, 5));
    std::string n = name;
    if (n == "log") {
      item.put(n, config_map({{"access_log", "false"}}));
    } else if (n == "upstream") {
      item.put(n, config_map({{"base_url", kUpstream}}));
    } else {
      item.put(n, ConfigNode());
    }
    list.push(item);
  }
  root.put("filters", list);
  ConfigErrors errors;
  auto spec = build_chain("openai", root, g.registry, g.services, errors);
  INFO((errors.lines().empty() ? std::string() : errors.lines().front()));
  REQUIRE(spec);
  return spec;
}

// Runs `method path` with `body` through the OpenAI chain until the exchange ends.
Exchange& call(GatewayFixture& g, const std::string& method, const std::string& path,
               const std::string& body = "") {
  return g.run(openai_chain(g), path, nullptr, [&](http::Request& r) {
    r.method = method;
    r.body = body;
  });
}

// A Gemini SSE answer arriving in `chunks`.
Answer sse(std::vector<std::string> chunks) {
  Answer a;
  a.headers.set("content-type", "text/event-stream");
  a.chunks = std::move(chunks);
  return a;
}

// The parsed body of the last whole response.
rapidjson::Document body_of(const GatewayFixture& g) {
  rapidjson::Document doc;
  doc.Parse(g.h.downstream.response.body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

// error.type and error.code of an OpenAI error body.
std::pair<std::string, std::string> error_of(const GatewayFixture& g) {
  rapidjson::Document doc = body_of(g);
  REQUIRE(doc.HasMember("error"));
  const auto& e = doc["error"];
  return {e["type"].GetString(), e["code"].IsString() ? e["code"].GetString() : "null"};
}

// A string member's text (RapidJSON's own operator== recurses under C++20's rewritten
// comparisons, so tests compare std::strings).
std::string text(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : "<not a string>";
}

std::string upstream_path(const GatewayFixture& g, size_t i) {
  const std::string& url = g.transport->requests.at(i).url;
  return url.substr(kUpstream.size());
}

}  // namespace

TEST_CASE("openai: unknown endpoints are 404 and wrong methods 405, in OpenAI's shape") {
  GatewayFixture g;
  g.add_keys(1);
  call(g, "POST", "/completions", kChat);
  CHECK(g.h.downstream.response.status == 404);
  CHECK(error_of(g) == std::pair<std::string, std::string>{"invalid_request_error", "unknown_url"});
  call(g, "POST", "/models/", "");  // "/models/" alone names no model
  CHECK(g.h.downstream.response.status == 404);
  call(g, "GET", "/chat/completions");
  CHECK(g.h.downstream.response.status == 405);
  CHECK(text(body_of(g)["error"]["message"]) == "use POST for /chat/completions");
  call(g, "POST", "/models/gemini-2.5-flash", "{}");
  CHECK(g.h.downstream.response.status == 405);
  CHECK(error_of(g).second == "method_not_allowed");
  CHECK(g.transport->requests.empty());
}

TEST_CASE("openai: a chat completion is one generateContent, answered as chat.completion") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(Answer::json(200, kOkBody));
  call(g, "POST", "/chat/completions", kChat);
  REQUIRE(g.transport->requests.size() == 1);
  CHECK(upstream_path(g, 0) == kGenerate);
  CHECK(g.h.downstream.calls == std::vector<std::string>{"response 200", "finished"});
  rapidjson::Document doc = body_of(g);
  CHECK(text(doc["object"]) == "chat.completion");
  CHECK(std::string(doc["id"].GetString()).starts_with("chatcmpl-"));
  CHECK(text(doc["choices"][0]["message"]["content"]) == "hello");
  CHECK(doc["usage"]["total_tokens"].GetInt() == 5);
}

TEST_CASE("openai: a translator error is a 400 and no upstream call") {
  GatewayFixture g;
  g.add_keys(1);
  call(g, "POST", "/chat/completions", R"({"model":"gemini-2.5-flash","messages":[]})");
  CHECK(g.h.downstream.response.status == 400);
  CHECK(error_of(g).first == "invalid_request_error");
  CHECK(g.transport->requests.empty());
}

TEST_CASE("openai: Gemini errors and local errors reach the client in OpenAI's shape") {
  GatewayFixture g;
  g.add_keys(2);
  // An invalid pool key is failed over, never shown as the client's 401.
  g.transport->script(Answer::json(400, key_invalid_body()));
  g.transport->script(Answer::json(400, google_error(400, "INVALID_ARGUMENT", "bad request")));
  call(g, "POST", "/chat/completions", kChat);
  CHECK(g.transport->requests.size() == 2);
  CHECK(g.h.downstream.response.status == 400);
  CHECK(error_of(g).first == "invalid_request_error");
  CHECK(text(body_of(g)["error"]["message"]) == "bad request");

  GatewayFixture none;  // no pool key at all: the keys filter answers 503 locally
  call(none, "POST", "/chat/completions", kChat);
  CHECK(none.h.downstream.response.status == 503);
  CHECK(error_of(none) ==
        std::pair<std::string, std::string>{"server_error", "service_unavailable"});
}

TEST_CASE("openai: held head — a first event that is data lets the stream go on") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(sse({kHiEvent}));
  call(g, "POST", "/chat/completions", kStreamChat);
  REQUIRE(g.transport->requests.size() == 1);
  CHECK(upstream_path(g, 0) == kStream + "?alt=sse");
  const auto& calls = g.h.downstream.calls;
  REQUIRE(calls.size() >= 4);
  CHECK(calls.front() == "head 200");
  CHECK(calls[calls.size() - 2] == "end clean");
  CHECK(*g.h.downstream.response.headers.get("content-type") == "text/event-stream; charset=utf-8");
  CHECK(*g.h.downstream.response.headers.get("cache-control") == "no-cache");
  const std::string& s = g.h.downstream.stream;
  CHECK(s.starts_with("data: {\"id\":\"chatcmpl-"));
  CHECK(s.find(R"("delta":{"role":"assistant","content":""})") != std::string::npos);
  CHECK(s.find(R"("delta":{"content":"Hi"})") != std::string::npos);
  CHECK(s.find(R"("finish_reason":"stop")") != std::string::npos);
  CHECK(s.ends_with("data: [DONE]\n\n"));
}

TEST_CASE("openai: held head — a first event that is an error becomes a plain HTTP error") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(sse({kQuotaEvent, kHiEvent}));
  Exchange& x = call(g, "POST", "/chat/completions", kStreamChat);
  CHECK(g.h.downstream.calls == std::vector<std::string>{"response 429", "finished"});
  CHECK(g.h.downstream.stream.empty());
  CHECK(*g.h.downstream.response.headers.get("content-type") == "application/json");
  CHECK(error_of(g) ==
        std::pair<std::string, std::string>{"rate_limit_error", "rate_limit_exceeded"});
  CHECK(text(body_of(g)["error"]["message"]) == "Resource has been exhausted");
  CHECK(x.info().status == 429);
}

TEST_CASE("openai: held head — a stream that ends without any event is a plain 502") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(sse({}));
  call(g, "POST", "/chat/completions", kStreamChat);
  CHECK(g.h.downstream.calls == std::vector<std::string>{"response 502", "finished"});
  CHECK(error_of(g) ==
        std::pair<std::string, std::string>{"server_error", "bad_upstream_response"});
}

TEST_CASE("openai: held head — split chunks: the head waits for the first whole event") {
  for (const std::string& event : {kHiEvent, kQuotaEvent}) {
    CAPTURE(event);
    GatewayFixture g;
    g.add_keys(1);
    Answer held = sse({});
    held.hold = true;
    g.transport->script(held);
    Exchange& x = g.h.start_with(
        openai_chain(g),
        [](http::Request& r) {
          r.method = "POST";
          r.path = "/chat/completions";
          r.headers.set("x-goog-api-key", kClientToken);
          r.body = kStreamChat;
        },
        g.settings());
    REQUIRE(run_until(g.h.worker, [&] { return !g.transport->transfers.empty(); }));
    TransferState& t = *g.transport->transfers[0];
    t.head(200);
    g.h.turn();
    // Event pieces, each cut mid-JSON: nothing may reach the client before the event is whole.
    size_t third = event.size() / 3;
    t.data(event.substr(0, third));
    g.h.turn();
    t.data(event.substr(third, third));
    g.h.turn();
    CHECK(g.h.downstream.calls.empty());
    t.data(event.substr(2 * third));
    g.h.turn();
    if (event == kHiEvent) {
      REQUIRE_FALSE(g.h.downstream.calls.empty());
      CHECK(g.h.downstream.calls.front() == "head 200");
      CHECK(g.h.downstream.stream.find(R"("content":"Hi")") != std::string::npos);
      t.done();
      REQUIRE(run_until(g.h.worker, [&] { return x.finished(); }));
      CHECK(g.h.downstream.stream.ends_with("data: [DONE]\n\n"));
      CHECK(g.h.downstream.calls[g.h.downstream.calls.size() - 2] == "end clean");
    } else {
      REQUIRE(run_until(g.h.worker, [&] { return x.finished(); }));
      CHECK(g.h.downstream.calls == std::vector<std::string>{"response 429", "finished"});
      CHECK(error_of(g).first == "rate_limit_error");
    }
  }
}

TEST_CASE("openai: a stream broken after its first event ends with an error event, cleanly") {
  GatewayFixture g;
  g.add_keys(1);
  Answer broken = sse({kHiEvent});
  broken.failure = transport::Failure{transport::FailureKind::kReset, "connection reset", true};
  broken.fail_before_head = false;
  g.transport->script(broken);
  call(g, "POST", "/chat/completions", kStreamChat);
  const auto& calls = g.h.downstream.calls;
  CHECK(calls.front() == "head 200");
  CHECK(calls[calls.size() - 2] == "end clean");  // the SSE error event is a proper end
  const std::string& s = g.h.downstream.stream;
  CHECK(s.find(R"("content":"Hi")") != std::string::npos);
  CHECK(s.find("data: {\"error\":") != std::string::npos);
  CHECK(s.find("[DONE]") == std::string::npos);
}

TEST_CASE("openai: embeddings of 101 inputs are two batch calls, merged in input order") {
  GatewayFixture g;
  g.add_keys(1);
  std::string input, first = "{\"embeddings\":[", second = "{\"embeddings\":[{\"values\":[1]}]}";
  for (int i = 0; i < 101; ++i) input += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  for (int i = 0; i < 100; ++i) first += (i ? ",{\"values\":[0]}" : "{\"values\":[0]}");
  first += "]}";
  g.transport->script(Answer::json(200, first));
  g.transport->script(Answer::json(200, second));
  call(g, "POST", "/embeddings", R"({"model":"gemini-embedding-001","input":[)" + input + "]}");
  REQUIRE(g.transport->requests.size() == 2);
  CHECK(upstream_path(g, 0) == "/v1beta/models/gemini-embedding-001:batchEmbedContents");
  CHECK(upstream_path(g, 1) == "/v1beta/models/gemini-embedding-001:batchEmbedContents");
  REQUIRE(g.h.downstream.response.status == 200);
  rapidjson::Document doc = body_of(g);
  REQUIRE(doc["data"].Size() == 101);
  CHECK(doc["data"][100]["index"].GetInt() == 100);
  CHECK(doc["data"][100]["embedding"][0].GetDouble() == 1.0);
  CHECK(doc["data"][99]["embedding"][0].GetDouble() == 0.0);
}

TEST_CASE("openai: an empty embeddings input is a 400 without upstream call") {
  GatewayFixture g;
  g.add_keys(1);
  call(g, "POST", "/embeddings", R"({"model":"gemini-embedding-001","input":[]})");
  CHECK(g.h.downstream.response.status == 400);
  CHECK(g.transport->requests.empty());
}

TEST_CASE("openai: the models list follows Gemini's pages; one model is a models get") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(
      Answer::json(200, R"({"models":[{"name":"models/gemini-2.5-flash"}],"nextPageToken":"p2"})"));
  g.transport->script(Answer::json(200, R"({"models":[{"name":"models/gemini-2.5-pro"}]})"));
  call(g, "GET", "/models");
  REQUIRE(g.transport->requests.size() == 2);
  CHECK(g.transport->requests[0].method == "GET");
  CHECK(upstream_path(g, 1).find("pageToken=p2") != std::string::npos);
  rapidjson::Document list = body_of(g);
  CHECK(text(list["object"]) == "list");
  REQUIRE(list["data"].Size() == 2);
  CHECK(text(list["data"][0]["id"]) == "gemini-2.5-flash");
  CHECK(text(list["data"][1]["id"]) == "gemini-2.5-pro");

  g.transport->script(Answer::json(200, R"({"name":"models/gemini-2.5-flash"})"));
  call(g, "GET", "/models/gemini-2.5-flash");
  REQUIRE(g.transport->requests.size() == 3);
  CHECK(upstream_path(g, 2) == "/v1beta/models/gemini-2.5-flash");
  rapidjson::Document one = body_of(g);
  CHECK(text(one["object"]) == "model");
  CHECK(text(one["id"]) == "gemini-2.5-flash");
}

TEST_CASE("openai: a model id that cannot go into a URL path is refused before any call") {
  GatewayFixture g;
  g.add_keys(1);
  call(g, "GET", "/models/a%2F..%2Fb");
  CHECK(g.h.downstream.response.status / 100 == 4);
  CHECK(g.transport->requests.empty());
}

TEST_CASE("openai: images on a Gemini image model are one generateContent per image, merged") {
  GatewayFixture g;
  g.add_keys(1);
  const std::string reply =
      R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},)"
      R"("finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1290,"totalTokenCount":1292}})";
  g.transport->script(Answer::json(200, reply));
  g.transport->script(Answer::json(200, reply));
  call(g, "POST", "/images/generations",
       R"({"model":"gemini-2.5-flash-image","prompt":"a cat","n":2,"size":"1024x1024"})");
  REQUIRE(g.transport->requests.size() == 2);
  CHECK(upstream_path(g, 1) == "/v1beta/models/gemini-2.5-flash-image:generateContent");
  REQUIRE(g.h.downstream.response.status == 200);
  rapidjson::Document doc = body_of(g);
  REQUIRE(doc["data"].Size() == 2);
  CHECK(text(doc["data"][1]["b64_json"]) == "AAAA");
  CHECK(doc["usage"]["output_tokens"].GetInt() == 2580);
}

TEST_CASE("openai: an image call whose second Gemini call fails answers that error, not half") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(Answer::json(
      200,
      R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AA"}}]}}]})"));
  g.transport->script(Answer::json(
      400,
      R"({"error":{"code":400,"message":"Unsupported aspect ratio","status":"INVALID_ARGUMENT"}})"));
  call(g, "POST", "/images/generations",
       R"({"model":"gemini-2.5-flash-image","prompt":"x","n":2})");
  CHECK(g.transport->requests.size() == 2);
  CHECK(g.h.downstream.response.status == 400);
  CHECK(text(body_of(g)["error"]["message"]).find("aspect ratio") != std::string::npos);
}

TEST_CASE("openai: dall-e names go to openai_image_model; url output is refused before any call") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(
      Answer::json(200, R"({"predictions":[{"bytesBase64Encoded":"AA","mimeType":"image/png"}]})"));
  auto snapshot = g.settings({{"openai_image_model", R"("imagen-4.0-fast-generate-001")"}});
  g.run(openai_chain(g), "/images/generations", snapshot,
        [](http::Request& r) { r.body = R"({"model":"dall-e-2","prompt":"x"})"; });
  REQUIRE(g.transport->requests.size() == 1);
  CHECK(upstream_path(g, 0) == "/v1beta/models/imagen-4.0-fast-generate-001:predict");
  CHECK(g.h.downstream.response.status == 200);
  call(g, "POST", "/images/generations", R"({"prompt":"x","response_format":"url"})");
  CHECK(g.h.downstream.response.status == 400);
  CHECK(g.transport->requests.size() == 1);
  CHECK(g.registry.settings_schema().convert_text("openai_image_model", R"("../x")").ok() == false);
}

TEST_CASE("openai: speech answers the wav bytes with audio/wav; the TTS model is a setting") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(Answer::json(
      200,
      R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"audio/L16;codec=pcm;rate=24000","data":"AQACAA=="}}]}}]})"));
  auto snapshot = g.settings({{"openai_speech_model", R"("gemini-2.5-pro-preview-tts")"}});
  g.run(openai_chain(g), "/audio/speech", snapshot,
        [](http::Request& r) { r.body = R"({"model":"tts-1","voice":"alloy","input":"hi"})"; });
  REQUIRE(g.transport->requests.size() == 1);
  CHECK(upstream_path(g, 0) == "/v1beta/models/gemini-2.5-pro-preview-tts:generateContent");
  const http::Response& r = g.h.downstream.response;
  REQUIRE(r.status == 200);
  CHECK(r.headers.get_or("content-type", "") == "audio/wav");
  REQUIRE(r.body.size() == 48);
  CHECK(r.body.substr(0, 4) == "RIFF");
  CHECK(r.body.substr(44) == std::string("\x01\x00\x02\x00", 4));
  call(g, "POST", "/audio/speech",
       R"({"model":"tts-1","voice":"alloy","input":"hi","response_format":"mp3"})");
  CHECK(g.h.downstream.response.status == 400);
  CHECK(g.transport->requests.size() == 1);
  call(g, "GET", "/audio/speech");
  CHECK(g.h.downstream.response.status == 405);
}
