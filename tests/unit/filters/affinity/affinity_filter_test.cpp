// The affinity filter in the production order (auth, affinity, retry, keys, upstream) with a
// scripted upstream: KeyPin from a recorded resource, and what keys does with it.
#include <doctest/doctest.h>

#include "core/clock.h"
#include "filters/affinity/resource_names.h"
#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;
using gemgate::affinity::kMaxNamesPerCall;

namespace {

std::shared_ptr<const ChainSpec> affinity_chain(GatewayFixture& g) {
  return g.chain({{"log", config_map({{"access_log", "false"}})},
                  {"auth", ConfigNode()},
                  {"affinity", ConfigNode()},
                  {"retry", ConfigNode()},
                  {"keys", ConfigNode()},
                  {"upstream", config_map({{"base_url", kUpstream}})}});
}

void own(GatewayFixture& g, const std::string& name, int64_t key, int64_t token = 42) {
  g.resources->record({name, key, token, "cachedContents", now_unix_ms(), now_unix_ms() + 60'000});
}

const std::string kWithCache =
    R"({"cachedContent":"cachedContents/c","contents":[{"parts":[{"text":"hi"}]}]})";

}  // namespace

TEST_CASE("a call naming a recorded resource uses only its key, every time") {
  GatewayFixture g;
  g.add_keys(3);
  own(g, "cachedContents/c", 2);
  auto chain = affinity_chain(g);
  for (int i = 0; i < 4; ++i) {
    g.transport->script(Answer::json(200, kOkBody));
    g.run(chain, kGenerate, nullptr, [](http::Request& r) { r.body = kWithCache; });
    CHECK(g.h.downstream.response.status == 200);
  }
  for (const auto& k : g.keys_sent()) CHECK(k == pool_secret(2));
}

TEST_CASE("a failed attempt on the owning key is the answer: no failover") {
  GatewayFixture g;
  g.add_keys(3);
  own(g, "cachedContents/c", 1);
  g.transport->script(
      Answer::json(503, R"({"error":{"code":503,"status":"UNAVAILABLE","message":"overloaded"}})"));
  g.transport->script(Answer::json(200, kOkBody));
  g.run(affinity_chain(g), kGenerate, nullptr, [](http::Request& r) { r.body = kWithCache; });
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.keys_sent() == std::vector<std::string>{pool_secret(1)});
}

TEST_CASE("another token's resource is 404; the upstream never hears of it") {
  GatewayFixture g;
  g.add_keys(2);
  own(g, "cachedContents/c", 1, /*token=*/7);
  g.run(affinity_chain(g), kGenerate, nullptr, [](http::Request& r) { r.body = kWithCache; });
  CHECK(g.h.downstream.response.status == 404);
  CHECK(g.transport->requests.empty());
}

TEST_CASE("a gone owning key is 409 saying so") {
  GatewayFixture g;
  g.add_keys(2);
  own(g, "cachedContents/c", 9);
  g.run(affinity_chain(g), kGenerate, nullptr, [](http::Request& r) { r.body = kWithCache; });
  CHECK(g.h.downstream.response.status == 409);
  CHECK(g.h.downstream.response.body.find("no longer in the pool") != std::string::npos);
  CHECK(g.transport->requests.empty());
}

TEST_CASE("a created cache is recorded with the key that served it and the caller's token") {
  GatewayFixture g;
  g.add_keys(3);
  g.transport->script(
      Answer::json(200, R"({"name":"cachedContents/new","expireTime":"2099-01-01T00:00:00Z"})"));
  Exchange& x = g.run(affinity_chain(g), "/v1beta/cachedContents", nullptr,
                      [](http::Request& r) { r.body = R"({"model":"models/gemini-2.5-flash"})"; });
  REQUIRE(g.h.downstream.response.status == 200);
  auto e = g.resources->find("cachedContents/new", now_unix_ms());
  REQUIRE(e);
  CHECK(e->key_id == x.info().key_id);
  CHECK(e->token_id == 42);
  CHECK(e->kind == "cachedContents");
}

TEST_CASE("a 404 forgets the path's resource only when the path is all the call names") {
  GatewayFixture g;
  g.add_keys(3);
  own(g, "tunedModels/t", 2);
  own(g, "cachedContents/c", 2);
  auto chain = affinity_chain(g);
  const std::string not_found =
      R"({"error":{"code":404,"status":"NOT_FOUND","message":"CachedContent not found"}})";
  // The body's cache is what is missing: the tuned model stays known and pinned.
  g.transport->script(Answer::json(404, not_found));
  g.run(chain, "/v1beta/tunedModels/t:generateContent", nullptr,
        [&](http::Request& r) { r.body = kWithCache; });
  CHECK(g.h.downstream.response.status == 404);
  CHECK(g.resources->find("tunedModels/t", now_unix_ms()));
  // A 404 of a call naming only the tuned model: it is gone.
  g.transport->script(Answer::json(404, not_found));
  g.run(chain, "/v1beta/tunedModels/t", nullptr, [](http::Request& r) { r.method = "GET"; });
  CHECK(g.h.downstream.response.status == 404);
  CHECK_FALSE(g.resources->find("tunedModels/t", now_unix_ms()));
}

TEST_CASE("a body naming more resources than a call may is 400 before any key is asked") {
  GatewayFixture g;
  g.add_keys(2);
  std::string body = R"({"contents":[{"parts":[)";
  for (size_t i = 0; i <= kMaxNamesPerCall; ++i) {
    if (i) body += ',';
    body += R"({"fileData":{"fileUri":"files/f)" + std::to_string(i) + R"("}})";
  }
  body += "]}]}";
  g.run(affinity_chain(g), kGenerate, nullptr, [&](http::Request& r) { r.body = body; });
  CHECK(g.h.downstream.response.status == 400);
  CHECK(g.h.downstream.response.body.find("more than 1000") != std::string::npos);
  CHECK(g.transport->requests.empty());
}

TEST_CASE("an answer naming another token's live resource on another key never rebinds it") {
  GatewayFixture g;
  g.add_keys(3);
  own(g, "files/chosen", 1, /*token=*/7);
  // The caller (token 42) created a file with a name it chose, on some key.
  for (int i = 0; i < 3; ++i) {
    g.transport->script(Answer::json(200, R"({"file":{"name":"files/chosen"}})"));
    g.run(affinity_chain(g), "/v1beta/files", nullptr,
          [](http::Request& r) { r.body = R"({"file":{"name":"files/chosen"}})"; });
    REQUIRE(g.h.downstream.response.status == 200);
    auto e = g.resources->find("files/chosen", now_unix_ms());
    REQUIRE(e);
    CHECK(e->token_id == 7);
    CHECK(e->key_id == 1);
  }
}
