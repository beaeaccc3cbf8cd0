// The `token_policy` filter in a Gemini chain (auth, token_policy, retry, keys, upstream) against
// a scripted transport: a model the token may not use is 403 before any upstream call and left
// out of model lists; the answer's usage is charged (buffered at the head, a stream with its
// last chunk); a token quota refuses the request after the one that crossed it (429, Retry-After,
// the OpenAI reason on quotas); a token without limits is untouched; a retry charges once.
#include "filters/token_policy/token_policy_filter.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>
#include <vector>

#include "core/clock.h"
#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

std::shared_ptr<const ChainSpec> policy_chain(GatewayFixture& g) {
  return g.chain({{"auth", ConfigNode()},
                  {"token_policy", ConfigNode()},
                  {"retry", ConfigNode()},
                  {"keys", ConfigNode()},
                  {"upstream", config_map({{"base_url", kUpstream}})}});
}

const std::string kList =
    R"({"models":[{"name":"models/gemini-2.5-flash"},{"name":"models/gemini-2.5-pro"},)"
    R"({"name":"models/gemini-2.0-flash-lite"}]})";

}  // namespace

TEST_CASE("token_policy: a model outside the token's list is 403 before any upstream call") {
  GatewayFixture g;
  g.add_keys(1);
  TokenPolicy p;
  p.models = {"gemini-2.5-flash", "gemini-*-lite"};
  g.add_token(kClientToken, 42, p);
  Exchange& x = g.run(policy_chain(g), "/v1beta/models/gemini-2.5-pro:generateContent");
  CHECK(g.h.downstream.response.status == 403);
  CHECK(g.h.downstream.response.body.find("model not allowed for this token: gemini-2.5-pro") !=
        std::string::npos);
  CHECK(g.h.downstream.response.body.find("PERMISSION_DENIED") != std::string::npos);
  CHECK(x.info().error_kind == "token_model");
  CHECK(g.transport->requests.empty());

  g.transport->script(Answer::json(200, kOkBody));
  g.run(policy_chain(g), kGenerate);
  CHECK(g.h.downstream.response.status == 200);
}

TEST_CASE("token_policy: model lists leave out what the token may not use") {
  GatewayFixture g;
  g.add_keys(1);
  TokenPolicy p;
  p.models = {"gemini-2.5-flash", "gemini-*-lite"};
  g.add_token(kClientToken, 42, p);
  g.transport->script(Answer::json(200, kList));
  g.run(policy_chain(g), "/v1beta/models", nullptr, [](http::Request& r) {
    r.method = "GET";
    r.body.clear();
  });
  REQUIRE(g.h.downstream.response.status == 200);
  rapidjson::Document doc;
  doc.Parse(g.h.downstream.response.body.c_str());
  REQUIRE(doc.IsObject());
  std::vector<std::string> names;
  for (const auto& m : doc["models"].GetArray()) names.emplace_back(m["name"].GetString());
  CHECK(names ==
        std::vector<std::string>{"models/gemini-2.5-flash", "models/gemini-2.0-flash-lite"});
}

TEST_CASE("token_policy: usage is charged once; the request after the crossing one is 429") {
  GatewayFixture g;
  g.add_keys(2);
  TokenPolicy p;
  p.daily_tokens = 8;  // kOkBody costs 5: the second request crosses it and is served
  g.add_token(kClientToken, 42, p);
  // The first attempt fails (503, retried on the other key), then the answer: charged once.
  g.transport->script(Answer::json(503, R"({"error":{"code":503,"status":"UNAVAILABLE"}})"));
  g.transport->script(Answer::json(200, kOkBody));
  g.run(policy_chain(g), kGenerate);
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.meter->usage(42, now_unix_ms()).day_tokens == 5);
  g.transport->script(Answer::json(200, kOkBody));
  g.run(policy_chain(g), kGenerate);
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.meter->usage(42, now_unix_ms()).day_tokens == 10);
  const size_t calls = g.transport->requests.size();
  Exchange& x = g.run(policy_chain(g), kGenerate);
  CHECK(g.h.downstream.response.status == 429);
  CHECK(g.h.downstream.response.headers.has("retry-after"));
  CHECK(g.h.downstream.response.body.find("daily_tokens quota of 8 tokens") != std::string::npos);
  CHECK(x.info().error_kind == "token_quota");
  CHECK(g.transport->requests.size() == calls);
  // A token without limits is not held back by another's quota.
  g.add_token("gg_other_client_token_987654321", 43);
  g.transport->script(Answer::json(200, kOkBody));
  g.run(policy_chain(g), kGenerate, nullptr, [](http::Request& r) {
    r.headers.set("x-goog-api-key", "gg_other_client_token_987654321");
  });
  CHECK(g.h.downstream.response.status == 200);
}

TEST_CASE("token_policy: a stream is charged with its final usage") {
  GatewayFixture g;
  g.add_keys(1);
  g.add_token(kClientToken, 42);
  Answer a;
  a.headers.set("content-type", "text/event-stream");
  a.chunks = {
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],"
      "\"usageMetadata\":{\"promptTokenCount\":3,\"totalTokenCount\":3}}\r\n\r\n",
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]},\"finishReason\":"
      "\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":4,"
      "\"totalTokenCount\":7}}\r\n\r\n"};
  g.transport->script(a);
  g.run(policy_chain(g), kStream, nullptr, [](http::Request& r) { r.query = "alt=sse"; });
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.meter->usage(42, now_unix_ms()).day_tokens == 7);
}
