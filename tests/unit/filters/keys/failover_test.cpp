// keys + retry + upstream together, through the production chain with a scripted upstream: which
// answers move to another key, what happens to each key, what the client finally gets.
#include <doctest/doctest.h>

#include "filters/common/upstream_attempt.h"
#include "pool/key_prober.h"
#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;
using transport::FailureKind;

TEST_CASE("success: one attempt with the first pool key; client credentials never forwarded") {
  GatewayFixture g;
  g.add_keys(3);
  g.transport->script(Answer::json(200, kOkBody));
  Exchange& x = g.run(g.gemini_chain(), kGenerate, nullptr,
                      [](http::Request& r) { r.query = "key=" + kClientToken + "&alt=json"; });
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.h.downstream.response.body == kOkBody);
  REQUIRE(g.transport->requests.size() == 1);
  const transport::UpstreamRequest& up = g.transport->requests[0];
  CHECK(up.url == kUpstream + kGenerate + "?alt=json");
  CHECK(up.headers.count("x-goog-api-key") == 1);
  CHECK(*up.headers.get("x-goog-api-key") == pool_secret(1));
  CHECK_FALSE(up.headers.has("authorization"));
  CHECK(up.url.find(kClientToken) == std::string::npos);
  CHECK(x.info().key_id == 1);
  CHECK(x.info().token_id == 42);
  CHECK(x.info().attempts == 1);
  CHECK(x.info().model == "gemini-2.5-flash");
  CHECK(x.info().error.empty());
  CHECK(x.info().usage.total == 5);
  REQUIRE(g.sink->requests.size() == 1);  // the log filter handed the finished request over
  CHECK(g.sink->requests[0].status == 200);
  CHECK(g.sink->failures.empty());
}

TEST_CASE("an invalid key is disabled and the request retried on the next key") {
  GatewayFixture g;
  g.add_keys(3);
  g.transport->script(Answer::json(400, key_invalid_body()));
  g.transport->script(Answer::json(200, kOkBody));
  Exchange& x = g.run(g.gemini_chain());
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.keys_sent() == std::vector<std::string>{pool_secret(1), pool_secret(2)});
  CHECK(g.pool->find(1)->disabled());
  CHECK(g.pool->find(1)->health().reason == "API_KEY_INVALID (HTTP 400)");
  CHECK_FALSE(g.pool->find(2)->disabled());
  CHECK(x.info().attempts == 2);
  CHECK(x.info().key_id == 2);
  CHECK(x.info().error.empty());  // the failed attempt is history once an answer stands
  REQUIRE(g.sink->failures.size() == 1);
  CHECK(g.sink->failures[0].key_id == 1);
  CHECK(g.sink->failures[0].kind == "key_invalid");
  CHECK(g.sink->failures[0].model == "gemini-2.5-flash");
}

TEST_CASE("quota: the key cools down for this model and the next key answers") {
  GatewayFixture g;
  g.add_keys(2);
  g.transport->script(Answer::json(429, quota_body("37s")));
  g.transport->script(Answer::json(200, kOkBody));
  g.run(g.gemini_chain());
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.keys_sent() == std::vector<std::string>{pool_secret(1), pool_secret(2)});
  int64_t until = 0;
  int64_t now = now_unix_ms();
  CHECK_FALSE(g.pool->find(1)->usable_for("gemini-2.5-flash", now, &until));
  CHECK(until - now > 30'000);
  CHECK(until - now <= 37'000);
  CHECK(g.pool->find(1)->usable_for("gemini-2.5-pro", now, &until));
  CHECK_FALSE(g.pool->find(1)->disabled());
  CHECK(g.sink->failures.at(0).kind == "quota");
}

TEST_CASE("quota on every key: 429 RESOURCE_EXHAUSTED with Retry-After") {
  GatewayFixture g;
  g.add_keys(3);
  for (int i = 0; i < 3; ++i) g.transport->script(Answer::json(429, quota_body("20s")));
  Exchange& x = g.run(g.gemini_chain());
  CHECK(g.transport->requests.size() == 3);
  const http::Response& r = g.h.downstream.response;
  CHECK(r.status == 429);
  CHECK(r.body.find("\"status\":\"RESOURCE_EXHAUSTED\"") != std::string::npos);
  REQUIRE(r.headers.has("retry-after"));
  int retry_after = std::stoi(*r.headers.get("retry-after"));
  CHECK(retry_after >= 19);
  CHECK(retry_after <= 20);
  CHECK(x.info().attempts == 3);
  CHECK(x.info().error_kind == "quota");
  // The next request does not even reach the upstream.
  g.run(g.gemini_chain());
  CHECK(g.transport->requests.size() == 3);
  CHECK(g.h.downstream.response.status == 429);
  CHECK(g.h.downstream.response.headers.has("retry-after"));
  CHECK(g.h.downstream.response.body.find("cooling down") != std::string::npos);
}

TEST_CASE("5xx on every key is an upstream outage: fast 503 + Retry-After, no key penalised") {
  GatewayFixture g;
  g.add_keys(3);
  for (int i = 0; i < 3; ++i) {
    g.transport->script(
        Answer::json(503, google_error(503, "UNAVAILABLE", "The model is overloaded.")));
  }
  Exchange& x = g.run(g.gemini_chain());
  CHECK(g.keys_sent() == std::vector<std::string>{pool_secret(1), pool_secret(2), pool_secret(3)});
  const http::Response& r = g.h.downstream.response;
  CHECK(r.status == 503);
  CHECK(r.body.find("\"status\":\"UNAVAILABLE\"") != std::string::npos);
  CHECK(r.body.find("upstream API is unavailable") != std::string::npos);
  CHECK(r.headers.has("retry-after"));
  REQUIRE(r.headers.has("x-request-id"));
  CHECK(r.body.find(*r.headers.get("x-request-id")) != std::string::npos);
  CHECK(x.info().error_kind == "upstream_503");
  int64_t now = now_unix_ms();
  for (int64_t id = 1; id <= 3; ++id) {
    CAPTURE(id);
    CHECK_FALSE(g.pool->find(id)->disabled());
    CHECK(g.pool->find(id)->health().cooldowns.empty());  // no breaker strike survives
    int64_t until = 0;
    CHECK(g.pool->find(id)->usable_for("gemini-2.5-flash", now, &until));
  }
  // The model is suspected, not refused (the one request may have caused it): the next request
  // goes upstream, and when it fails too it is answered the same way at once, on one key.
  CHECK(g.pool->upstream().suspected("gemini-2.5-flash"));
  g.transport->script(
      Answer::json(503, google_error(503, "UNAVAILABLE", "The model is overloaded.")));
  g.run(g.gemini_chain());
  CHECK(g.transport->requests.size() == 4);
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.h.downstream.response.headers.has("retry-after"));
  // The gateway's own probe (a harmless request) fails as well: the outage is confirmed, and
  // requests are answered without calling the upstream.
  g.transport->script(
      Answer::json(503, google_error(503, "UNAVAILABLE", "The model is overloaded.")));
  REQUIRE(pool::probe_upstream_outage(g.h.worker, g.pool,
                                      pool::ProbeOptions{kUpstream, "gemini-2.5-flash", 5000, ""}));
  run_until(g.h.worker, [&] { return g.pool->upstream().any_outage(); });
  CHECK(g.transport->requests.size() == 5);
  REQUIRE(g.transport->requests.back().body);
  CHECK(g.transport->requests.back().body->find("maxOutputTokens") != std::string::npos);
  g.run(g.gemini_chain());
  CHECK(g.transport->requests.size() == 5);
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.h.downstream.response.headers.has("retry-after"));
}

TEST_CASE("a request that fails on every key while Google serves others: nobody else is refused") {
  // Google answers some inputs with a 500 on every key. The request that did it gets a fast
  // answer; the model stays served; the probe's harmless request is answered and drops the
  // suspicion. Repeated, it never opens an outage and costs no key its standing.
  GatewayFixture g;
  g.add_keys(3);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    for (int i = 0; i < 3; ++i)
      g.transport->script(
          Answer::json(500, google_error(500, "INTERNAL", "An internal error has occurred.")));
    g.run(g.gemini_chain());
    CHECK(g.h.downstream.response.status >= 500);
    CHECK(g.pool->upstream().suspected("gemini-2.5-flash"));
    CHECK_FALSE(g.pool->upstream().any_outage());
    // Another client's request meanwhile is served.
    g.transport->script(Answer::json(200, kOkBody));
    g.run(g.gemini_chain());
    CHECK(g.h.downstream.response.status == 200);
    CHECK_FALSE(g.pool->upstream().suspected("gemini-2.5-flash"));
  }
  // With nobody else asking, the probe drops the suspicion.
  for (int i = 0; i < 3; ++i)
    g.transport->script(
        Answer::json(500, google_error(500, "INTERNAL", "An internal error has occurred.")));
  g.run(g.gemini_chain());
  REQUIRE(g.pool->upstream().suspected("gemini-2.5-flash"));
  g.transport->script(Answer::json(200, kOkBody));
  REQUIRE(pool::probe_upstream_outage(g.h.worker, g.pool,
                                      pool::ProbeOptions{kUpstream, "gemini-2.5-flash", 5000, ""}));
  run_until(g.h.worker, [&] { return !g.pool->upstream().suspected("gemini-2.5-flash"); });
  CHECK_FALSE(g.pool->upstream().any_outage());
  int64_t now = now_unix_ms();
  for (int64_t id = 1; id <= 3; ++id) {
    CAPTURE(id);
    CHECK_FALSE(g.pool->find(id)->disabled());
    int64_t until = 0;
    CHECK(g.pool->find(id)->usable_for("gemini-2.5-flash", now, &until));
  }
}

TEST_CASE("a key's consecutive 5xx open its breaker (max_failures); it is never disabled") {
  GatewayFixture g;
  g.add_keys(3);
  auto one_attempt = g.settings({{"max_retries", "1"}});
  // Round-robin: key 1 fails each time it comes up, keys 2 and 3 answer.
  for (int round = 0; round < 3; ++round) {
    g.transport->script(Answer::json(500, google_error(500, "INTERNAL", "oops")));
    g.transport->script(Answer::json(200, kOkBody));
    g.transport->script(Answer::json(200, kOkBody));
    for (int i = 0; i < 3; ++i) g.run(g.gemini_chain(), kGenerate, one_attempt);
  }
  CHECK_FALSE(g.pool->find(1)->disabled());
  CHECK(g.pool->find(1)->health().failures == 3);
  int64_t until = 0;
  CHECK_FALSE(g.pool->find(1)->usable_for("gemini-2.5-flash", now_unix_ms(), &until));
  size_t before = g.transport->requests.size();
  for (int i = 0; i < 4; ++i) {
    g.transport->script(Answer::json(200, kOkBody));
    g.run(g.gemini_chain(), kGenerate, one_attempt);
    CHECK(g.h.downstream.response.status == 200);
  }
  for (size_t i = before; i < g.transport->requests.size(); ++i) {
    CHECK(*g.transport->requests[i].headers.get("x-goog-api-key") != pool_secret(1));
  }
}

TEST_CASE("a client error is returned as it is: no retry, no penalty") {
  GatewayFixture g;
  g.add_keys(3);
  std::string bad = google_error(400, "INVALID_ARGUMENT", "contents is not specified");
  g.transport->script(Answer::json(400, bad));
  Exchange& x = g.run(g.gemini_chain());
  CHECK(g.transport->requests.size() == 1);
  CHECK(g.h.downstream.response.status == 400);
  CHECK(g.h.downstream.response.body == bad);
  {
    pool::KeyHealth h = g.pool->find(1)->health();
    CHECK_FALSE(h.disabled);
    CHECK(h.failures == 0);
    CHECK(h.cooldowns.empty());
  }
  CHECK(g.sink->failures.empty());  // the client's mistake: no error-log row
  // ... but its request-log row says what Google said.
  CHECK(x.info().error == "INVALID_ARGUMENT: contents is not specified");
  CHECK(x.info().error_kind == "client_error");
  g.transport->script(Answer::json(404, google_error(404, "NOT_FOUND", "no such model")));
  g.run(g.gemini_chain());
  CHECK(g.transport->requests.size() == 2);
  CHECK(g.h.downstream.response.status == 404);
}

TEST_CASE("a failed attempt is logged with Google's words, clipped, and a success clears it") {
  GatewayFixture g;
  g.add_keys(2);
  std::string long_text(1000, 'x');
  g.transport->script(
      Answer::json(503, google_error(503, "UNAVAILABLE", "overloaded " + long_text)));
  Exchange& x = g.run(g.gemini_chain());
  CHECK(g.h.downstream.response.status == 200);  // the second key answered
  REQUIRE(g.sink->failures.size() == 1);
  const std::string& message = g.sink->failures[0].message;
  CHECK(message.starts_with("UNAVAILABLE: overloaded xxx"));
  CHECK(message.size() < 320);
  CHECK(message.ends_with("…"));
  CHECK(x.info().error.empty());  // the request succeeded in the end
}

TEST_CASE("no keys at all: 503 without calling upstream") {
  GatewayFixture g;
  Exchange& x = g.run(g.gemini_chain());
  CHECK(g.transport->requests.empty());
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.h.downstream.response.body.find("no API keys") != std::string::npos);
  CHECK(x.info().error_kind == "no_key");
}

TEST_CASE("every key cooling: 429 with Retry-After without calling upstream") {
  GatewayFixture g;
  g.add_keys(2);
  pool::Outcome quota;
  quota.kind = pool::OutcomeKind::kQuota;
  quota.retry_delay_ms = 90'000;
  int64_t now = now_unix_ms();
  g.pool->record(*g.pool->find(1), "gemini-2.5-flash", quota, {}, now);
  g.pool->record(*g.pool->find(2), "gemini-2.5-flash", quota, {}, now);
  g.run(g.gemini_chain());
  CHECK(g.transport->requests.empty());
  CHECK(g.h.downstream.response.status == 429);
  int retry_after = std::stoi(*g.h.downstream.response.headers.get("retry-after"));
  CHECK(retry_after >= 89);
  CHECK(retry_after <= 90);
}

TEST_CASE("max_retries bounds the attempts, each on a different key") {
  GatewayFixture g;
  g.add_keys(5);
  for (int i = 0; i < 5; ++i)
    g.transport->script(Answer::json(500, google_error(500, "INTERNAL", "x")));
  Exchange& x = g.run(g.gemini_chain(), kGenerate, g.settings({{"max_retries", "2"}}));
  CHECK(g.transport->requests.size() == 2);
  CHECK(x.info().attempts == 2);
  std::vector<std::string> sent = g.keys_sent();
  CHECK(sent[0] != sent[1]);
  CHECK(g.h.downstream.response.status == 500);
}

TEST_CASE("many attempts: every key tried once, in the pool's order, past the inline few") {
  // Nine keys, eight out of quota, the ninth answers: the tried list outgrows the ids it holds
  // inline, and no key may come round twice.
  GatewayFixture g;
  g.add_keys(9);
  for (int i = 0; i < 8; ++i) g.transport->script(Answer::json(429, quota_body("20s")));
  g.transport->script(Answer::json(200, kOkBody));
  Exchange& x = g.run(g.gemini_chain(), kGenerate, g.settings({{"max_retries", "9"}}));
  CHECK(g.h.downstream.response.status == 200);
  CHECK(x.info().attempts == 9);
  std::vector<std::string> expected;
  for (int i = 1; i <= 9; ++i) expected.push_back(pool_secret(i));
  CHECK(g.keys_sent() == expected);
  CHECK(x.info().key_id == 9);
}

TEST_CASE("attempts exhausted without an outage: the last failure goes out (not a generic 503)") {
  GatewayFixture g;
  g.add_keys(3);
  g.transport->script(Answer::json(500, google_error(500, "INTERNAL", "first")));
  g.transport->script(Answer::json(502, google_error(502, "UNAVAILABLE", "second")));
  g.run(g.gemini_chain(), kGenerate, g.settings({{"max_retries", "2"}}));
  CHECK(g.transport->requests.size() == 2);
  CHECK(g.h.downstream.response.status == 502);
  CHECK(g.h.downstream.response.body.find("second") != std::string::npos);
}

TEST_CASE("transport failures: timeout → retried → 504 at the end, with the failure recorded") {
  GatewayFixture g;
  g.add_keys(3);
  g.transport->script(Answer::fail(FailureKind::kTimeout, "upstream.test: no answer"));
  g.transport->script(Answer::fail(FailureKind::kTimeout, "upstream.test: no answer"));
  Exchange& x = g.run(g.gemini_chain(), kGenerate, g.settings({{"max_retries", "2"}}));
  CHECK(g.transport->requests.size() == 2);
  CHECK(g.h.downstream.response.status == 504);
  CHECK(g.h.downstream.response.body.find("DEADLINE_EXCEEDED") != std::string::npos);
  CHECK(g.h.downstream.response.body.find("upstream.test") == std::string::npos);
  CHECK(x.run_slot<upstream::UpstreamAttempt>().failure == FailureKind::kTimeout);
  CHECK(g.pool->find(1)->health().failures == 1);
  CHECK_FALSE(g.pool->find(1)->disabled());
  REQUIRE(g.sink->failures.size() == 2);
  CHECK(g.sink->failures[0].kind == "timeout");
  CHECK(g.sink->failures[0].status == 0);
}

TEST_CASE("a connect failure is an upstream outage: fast 503 + Retry-After, no retry, no penalty") {
  GatewayFixture g;
  g.add_keys(2);
  g.transport->script(Answer::fail(FailureKind::kConnectFailed, "refused by 10.1.2.3:443"));
  Exchange& x = g.run(g.gemini_chain());
  const http::Response& r = g.h.downstream.response;
  CHECK(g.transport->requests.size() == 1);  // another key would fail alike
  CHECK(r.status == 503);
  CHECK(r.headers.has("retry-after"));
  CHECK(r.body.find("10.1.2.3") == std::string::npos);
  CHECK(x.info().error_kind == "connect");
  CHECK(x.info().error.find("10.1.2.3") != std::string::npos);  // the log keeps the detail
  for (int64_t id = 1; id <= 2; ++id) {
    CHECK(g.pool->find(id)->health().failures == 0);
    CHECK(g.pool->find(id)->health().cooldowns.empty());
  }
  g.run(g.gemini_chain());
  CHECK(g.transport->requests.size() == 1);  // refused fast until a trial is due
  CHECK(g.h.downstream.response.status == 503);
}
