// The keys filter with key policies, through the production chain with a scripted upstream: the
// token's key group (StreamInfo::key_group, set here by a test filter standing in for auth)
// restricts the pick, a key's own proxy rides on its attempts, a dead key proxy fails that key
// over without an upstream outage, answers' tokens count against the key's tpm, and every key
// at its limit answers 429 with Retry-After.
#include <algorithm>
#include <doctest/doctest.h>

#include "filters/common/upstream_attempt.h"
#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;
using transport::FailureKind;

namespace {

// The key group the stand-in for auth gives every request.
std::string g_key_group;

class SetKeyGroup final : public Filter {
 public:
  Status on_request(FilterCallbacks& x) override {
    x.info().key_group = g_key_group;
    return Status::Continue;
  }
};

// The production chain with the stand-in for the token's key group after auth.
std::shared_ptr<const ChainSpec> grouped_chain(GatewayFixture& g) {
  auto added = g.registry.add_filter(FilterDef<NoConfig>{
      .name = "test_key_group",
      .summary = "sets StreamInfo::key_group (tests)",
      .build = [](const FilterBuild<NoConfig>&) -> std::optional<FilterFactory> {
        return FilterFactory([] { return std::make_unique<SetKeyGroup>(); });
      },
  });
  REQUIRE(added.ok());
  return g.chain({{"log", config_map({{"access_log", "false"}})},
                  {"auth", ConfigNode()},
                  {"test_key_group", ConfigNode()},
                  {"retry", ConfigNode()},
                  {"keys", ConfigNode()},
                  {"upstream", config_map({{"base_url", kUpstream}})}});
}

pool::KeyPolicy policy(std::string group, std::string proxy = "", int64_t rpm = 0,
                       int64_t tpm = 0) {
  pool::KeyPolicy p;
  p.group = std::move(group);
  p.proxy = std::move(proxy);
  p.rpm = rpm;
  p.tpm = tpm;
  return p;
}

}  // namespace

TEST_CASE("a token's key group restricts the pick to that group's keys") {
  GatewayFixture g;
  g.add_keys(3);
  g.pool->set_policy(1, policy("paid"));
  g.pool->set_policy(3, policy("paid"));
  auto chain = grouped_chain(g);
  g_key_group = "paid";
  for (int i = 0; i < 4; ++i) g.transport->script(Answer::json(200, kOkBody));
  for (int i = 0; i < 4; ++i) g.run(chain);
  CHECK(g.keys_sent() ==
        std::vector<std::string>{pool_secret(1), pool_secret(3), pool_secret(1), pool_secret(3)});
  // No group: every key, grouped or not.
  g_key_group = "";
  g.transport->requests.clear();
  for (int i = 0; i < 3; ++i) g.transport->script(Answer::json(200, kOkBody));
  for (int i = 0; i < 3; ++i) g.run(chain);
  auto sent = g.keys_sent();
  std::sort(sent.begin(), sent.end());
  CHECK(sent == std::vector<std::string>{pool_secret(1), pool_secret(2), pool_secret(3)});
}

TEST_CASE("a key group without keys: 503 naming the group, nothing sent upstream") {
  GatewayFixture g;
  g.add_keys(2);
  auto chain = grouped_chain(g);
  g_key_group = "enterprise";
  Exchange& x = g.run(chain);
  CHECK(g.transport->requests.empty());
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.h.downstream.response.body.find("group 'enterprise'") != std::string::npos);
  CHECK(x.info().error_kind == "no_key");
  // Every key of the group disabled: the answer names the group too.
  g.pool->set_policy(1, policy("enterprise"));
  g.pool->disable(1, "test");
  g.run(chain);
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.h.downstream.response.body.find("keys of group 'enterprise' are disabled") !=
        std::string::npos);
  g_key_group = "";
}

TEST_CASE("a key's own proxy rides on its attempts; other keys keep the upstream_proxy setting") {
  GatewayFixture g;
  g.add_keys(2);
  g.pool->set_policy(1, policy("", "socks5h://user:pw@proxy.test:1080"));
  g.transport->script(Answer::json(200, kOkBody));
  g.transport->script(Answer::json(200, kOkBody));
  auto snapshot = g.settings({{"upstream_proxy", "\"http://global.test:3128\""}});
  g.run(g.gemini_chain(), kGenerate, snapshot);
  g.run(g.gemini_chain(), kGenerate, snapshot);
  REQUIRE(g.transport->requests.size() == 2);
  CHECK(g.transport->requests[0].proxy == "socks5h://user:pw@proxy.test:1080");
  CHECK(g.transport->requests[1].proxy == "http://global.test:3128");
}

TEST_CASE("a dead key proxy fails that key over: no upstream outage, the next key answers") {
  GatewayFixture g;
  g.add_keys(2);
  g.pool->set_policy(1, policy("", "http://dead-proxy.test:3128"));
  g.transport->script(Answer::fail(FailureKind::kConnectFailed, "proxy refused"));
  g.transport->script(Answer::json(200, kOkBody));
  Exchange& x = g.run(g.gemini_chain());
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.transport->requests.size() == 2);
  CHECK(x.info().key_id == 2);
  CHECK(g.pool->find(1)->health().failures == 1);  // the key's failure, not the upstream's
  CHECK_FALSE(g.pool->find(1)->disabled());
  REQUIRE(g.sink->failures.size() == 1);
  CHECK(g.sink->failures[0].message.find("proxy of key 1") != std::string::npos);
  // The upstream is not in an outage: the next request goes out.
  g.transport->script(Answer::json(200, kOkBody));
  g.run(g.gemini_chain());
  CHECK(g.h.downstream.response.status == 200);
}

TEST_CASE("an answer's tokens count against its key's tpm; every key at its limit is 429") {
  GatewayFixture g;
  g.add_keys(1);
  g.pool->set_policy(1, policy("", "", 0, 5));
  g.transport->script(Answer::json(200, kOkBody));  // usage total 5
  g.run(g.gemini_chain());
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.pool->find(1)->last_minute(now_unix_ms()).tokens == 5);
  Exchange& x = g.run(g.gemini_chain());
  CHECK(g.transport->requests.size() == 1);  // nothing more went upstream
  CHECK(g.h.downstream.response.status == 429);
  CHECK(g.h.downstream.response.headers.has("retry-after"));
  CHECK(g.h.downstream.response.body.find("limits") != std::string::npos);
  CHECK(x.info().error_kind == "no_key");
  CHECK(g.pool->find(1)->health().cooldowns.empty());  // skipped, not penalised
}
