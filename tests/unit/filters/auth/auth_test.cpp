// The auth filter through a chain (auth → upstream): each token source, stripping of every
// client credential, 401 for a missing or wrong token, the token id recorded, and its config.
#include <doctest/doctest.h>

#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

std::shared_ptr<const ChainSpec> auth_chain(GatewayFixture& g,
                                            std::vector<std::string> sources = {}) {
  ConfigNode auth;
  if (!sources.empty()) {
    auth = ConfigNode::map(mk());
    ConfigNode list = ConfigNode::sequence(mk(2, 12));
    int col = 13;
    for (const auto& s : sources) list.push(ConfigNode::scalar(s, mk(2, col += 8)));
    auth.put("sources", list);
  }
  return g.chain({{"auth", auth}, {"upstream", config_map({{"base_url", kUpstream}})}});
}

// A request with no credential at all, then `fill`.
std::function<void(http::Request&)> with(std::function<void(http::Request&)> fill) {
  return [fill](http::Request& r) {
    r.headers.remove("x-goog-api-key");
    fill(r);
  };
}

void check_no_credential_upstream(const GatewayFixture& g) {
  REQUIRE(g.transport->requests.size() == 1);
  const transport::UpstreamRequest& up = g.transport->requests[0];
  CHECK_FALSE(up.headers.has("x-goog-api-key"));
  CHECK_FALSE(up.headers.has("authorization"));
  CHECK_FALSE(up.headers.has("x-api-key"));
  CHECK(up.url.find("key=") == std::string::npos);
  CHECK(up.url.find(kClientToken) == std::string::npos);
}

}  // namespace

TEST_CASE("a token in ?key= is accepted and removed from the upstream URL") {
  GatewayFixture g;
  Exchange& x = g.run(auth_chain(g), kGenerate, nullptr,
                      with([](http::Request& r) { r.query = "alt=sse&key=" + kClientToken; }));
  CHECK(g.h.downstream.response.status == 200);
  check_no_credential_upstream(g);
  CHECK(g.transport->requests[0].url == kUpstream + kGenerate + "?alt=sse");
  CHECK(x.info().token_id == 42);
  CHECK(g.usage->ids == std::vector<int64_t>{42});
}

TEST_CASE("a token in x-goog-api-key is accepted and removed") {
  GatewayFixture g;
  Exchange& x = g.run(auth_chain(g));
  CHECK(g.h.downstream.response.status == 200);
  check_no_credential_upstream(g);
  CHECK(x.info().token_id == 42);
}

TEST_CASE("a Bearer token is accepted (any case, surrounding spaces) and removed") {
  GatewayFixture g;
  Exchange& x = g.run(auth_chain(g), kGenerate, nullptr, with([](http::Request& r) {
                        r.headers.set("Authorization", "bearer   " + kClientToken + " ");
                      }));
  CHECK(g.h.downstream.response.status == 200);
  check_no_credential_upstream(g);
  CHECK(x.info().token_id == 42);
}

TEST_CASE("every credential is stripped, also the ones not used to authenticate") {
  GatewayFixture g;
  g.run(auth_chain(g), kGenerate, nullptr, [](http::Request& r) {
    r.query = "key=" + kClientToken + "&key=other";
    r.headers.set("authorization", "Bearer something-else");
    r.headers.add("X-Goog-Api-Key", "second-copy");
  });
  CHECK(g.h.downstream.response.status == 200);
  check_no_credential_upstream(g);
}

TEST_CASE("a wrong token: 401, nothing sent upstream, no token id") {
  GatewayFixture g;
  Exchange& x = g.run(auth_chain(g), kGenerate, nullptr, [](http::Request& r) {
    r.headers.set("x-goog-api-key", "gg_not_a_known_token_at_all");
  });
  CHECK(g.h.downstream.response.status == 401);
  CHECK(g.h.downstream.response.body.find("\"status\":\"UNAUTHENTICATED\"") != std::string::npos);
  CHECK(g.h.downstream.response.body.find("gg_not_a_known") == std::string::npos);
  CHECK(g.transport->requests.empty());
  CHECK(x.info().token_id == -1);
  CHECK(x.info().error_kind == "auth");
  CHECK(g.usage->ids.empty());
}

TEST_CASE("a missing token: 401 naming where to send it") {
  GatewayFixture g;
  g.run(auth_chain(g), kGenerate, nullptr, with([](http::Request&) {}));
  CHECK(g.h.downstream.response.status == 401);
  CHECK(g.h.downstream.response.body.find("missing API token") != std::string::npos);
  CHECK(g.transport->requests.empty());
  g.run(auth_chain(g), kGenerate, nullptr, with([](http::Request& r) {
          r.query = "key=";
          r.headers.set("authorization", "Basic dXNlcjpwYXNz");
        }));
  CHECK(g.h.downstream.response.status == 401);
}

TEST_CASE("a pool key presented as a client token is refused") {
  GatewayFixture g;
  g.add_keys(1);
  g.run(auth_chain(g), kGenerate, nullptr,
        [](http::Request& r) { r.headers.set("x-goog-api-key", pool_secret(1)); });
  CHECK(g.h.downstream.response.status == 401);
}

TEST_CASE("x_api_key: a token in x-api-key (the Anthropic SDKs) is accepted and removed") {
  GatewayFixture g;
  auto anthropic = auth_chain(g, {"x_api_key", "bearer"});
  g.run(anthropic);  // x-goog-api-key is not a configured source here
  CHECK(g.h.downstream.response.status == 401);
  CHECK(g.h.downstream.response.body.find("the x-api-key header") != std::string::npos);
  Exchange& x = g.run(anthropic, kGenerate, nullptr,
                      with([](http::Request& r) { r.headers.set("X-Api-Key", kClientToken); }));
  CHECK(g.h.downstream.response.status == 200);
  CHECK(x.info().token_id == 42);
  check_no_credential_upstream(g);
  // Not a configured source: still stripped, never sent upstream.
  GatewayFixture g2;
  g2.run(auth_chain(g2), kGenerate, nullptr,
         [](http::Request& r) { r.headers.set("x-api-key", "some-other-secret"); });
  CHECK(g2.h.downstream.response.status == 200);
  check_no_credential_upstream(g2);
}

TEST_CASE("configured sources: only those places are read, every place is still stripped") {
  GatewayFixture g;
  auto bearer_only = auth_chain(g, {"bearer"});
  g.run(bearer_only);  // the token is in x-goog-api-key, which is not a configured source
  CHECK(g.h.downstream.response.status == 401);
  CHECK(g.h.downstream.response.body.find("'Authorization: Bearer' header") != std::string::npos);
  g.run(bearer_only, kGenerate, nullptr,
        [](http::Request& r) { r.headers.set("authorization", "Bearer " + kClientToken); });
  CHECK(g.h.downstream.response.status == 200);
  check_no_credential_upstream(g);
}

TEST_CASE("a revoked token stops working with the next request") {
  GatewayFixture g;
  auto chain = auth_chain(g);
  g.run(chain);
  CHECK(g.h.downstream.response.status == 200);
  g.credentials->publish(std::make_shared<CredentialSet>());
  g.run(chain);
  CHECK(g.h.downstream.response.status == 401);
}

TEST_CASE("auth config errors are positioned") {
  GatewayFixture g;
  ConfigErrors errors;
  ConfigNode root = ConfigNode::map(mk());
  ConfigNode list = ConfigNode::sequence(mk(2, 3));
  ConfigNode item = ConfigNode::map(mk(3, 5));
  ConfigNode auth = ConfigNode::map(mk(3, 11));
  ConfigNode sources = ConfigNode::sequence(mk(4, 16));
  sources.push(ConfigNode::scalar("query", mk(4, 17)));
  sources.push(ConfigNode::scalar("cookie", mk(4, 24)));
  auth.put("sources", sources);
  auth.put("mode", ConfigNode::scalar("strict", mk(5, 13)));
  item.put("auth", auth);
  list.push(item);
  ConfigNode healthz = ConfigNode::map(mk(6, 5));
  healthz.put("healthz", ConfigNode());
  list.push(healthz);
  root.put("filters", list);
  CHECK(build_chain("c", root, g.registry, g.services, errors) == nullptr);
  CHECK(errors.lines() ==
        std::vector<std::string>{"test.yaml:5:13: unknown key 'mode' (expected one of: sources)",
                                 "test.yaml:4:24: unknown token source 'cookie' (expected query, "
                                 "goog_header, bearer or x_api_key)"});

  ConfigErrors empty_errors;
  auth = ConfigNode::map(mk(3, 11));
  auth.put("sources", ConfigNode::sequence(mk(4, 16)));
  item = ConfigNode::map(mk(3, 5));
  item.put("auth", auth);
  list = ConfigNode::sequence(mk(2, 3));
  list.push(item);
  list.push(healthz);
  root = ConfigNode::map(mk());
  root.put("filters", list);
  CHECK(build_chain("c", root, g.registry, g.services, empty_errors) == nullptr);
  CHECK(empty_errors.lines() ==
        std::vector<std::string>{"test.yaml:4:16: 'sources' must name at least one place"});
}

TEST_CASE("the token's policy: disabled and expired are 401, key group and policy passed on") {
  GatewayFixture g;
  TokenPolicy off;
  off.enabled = false;
  g.add_token(kClientToken, 42, off);
  g.run(auth_chain(g));
  CHECK(g.h.downstream.response.status == 401);
  CHECK(g.h.downstream.response.body.find("the API token is disabled") != std::string::npos);
  CHECK(g.transport->requests.empty());

  TokenPolicy old;
  old.expires_at_ms = 1000;  // 1970
  g.add_token(kClientToken, 42, old);
  g.run(auth_chain(g));
  CHECK(g.h.downstream.response.status == 401);
  CHECK(g.h.downstream.response.body.find("the API token has expired") != std::string::npos);

  TokenPolicy grouped;
  grouped.key_group = "paid";
  grouped.expires_at_ms = 4'102'444'800'000;  // 2100
  g.add_token(kClientToken, 42, grouped);
  Exchange& x = g.run(auth_chain(g));
  CHECK(g.h.downstream.response.status == 200);
  CHECK(x.info().key_group == "paid");
  const TokenPolicySlot* slot = x.find_slot<TokenPolicySlot>();
  REQUIRE(slot);
  REQUIRE(slot->policy);
  CHECK(slot->policy->id == 42);
}

TEST_CASE("rpm is decided from the head: the sixth request within a minute is 429") {
  GatewayFixture g;
  TokenPolicy p;
  p.rpm = 5;
  g.add_token(kClientToken, 42, p);
  for (int i = 0; i < 5; ++i) {
    g.run(auth_chain(g));
    CHECK(g.h.downstream.response.status == 200);
  }
  Exchange& x = g.run(auth_chain(g));
  CHECK(g.h.downstream.response.status == 429);
  CHECK(g.h.downstream.response.body.find(
            "rpm limit of 5 requests per minute reached for this token") != std::string::npos);
  CHECK(g.h.downstream.response.headers.has("retry-after"));
  CHECK(x.info().error_kind == "token_rate");
  CHECK(g.transport->requests.size() == 5);
}
