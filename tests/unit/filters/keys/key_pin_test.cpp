// KeyPin (filters/common/key_pin.h) through the production chain with a scripted upstream: a
// call pinned to the key that owns its resource uses that key for every attempt and never
// another; the key gone or disabled is 409, cooling or at its own rpm limit 503 + Retry-After;
// Google's 403 for the resource on its own key is the client's answer and the key stays healthy;
// the token's key group does not apply to a pinned call.
#include "filters/common/key_pin.h"

#include <doctest/doctest.h>

#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

// What the stand-in for the affinity filter pins every request to, and the key group it gives.
common::KeyPin g_pin;
std::string g_group;

class SetPin final : public Filter {
 public:
  Status on_request(FilterCallbacks& x) override {
    x.slot<common::KeyPin>() = g_pin;
    x.info().key_group = g_group;
    return Status::Continue;
  }
};

std::shared_ptr<const ChainSpec> pinned_chain(GatewayFixture& g, int64_t key) {
  g_pin = {key, "files/abc"};
  g_group = "";
  auto added = g.registry.add_filter(FilterDef<NoConfig>{
      .name = "test_pin",
      .summary = "sets the KeyPin slot (tests)",
      .build = [](const FilterBuild<NoConfig>&) -> std::optional<FilterFactory> {
        return FilterFactory([] { return std::make_unique<SetPin>(); });
      },
  });
  REQUIRE(added.ok());
  return g.chain({{"log", config_map({{"access_log", "false"}})},
                  {"auth", ConfigNode()},
                  {"test_pin", ConfigNode()},
                  {"retry", ConfigNode()},
                  {"keys", ConfigNode()},
                  {"upstream", config_map({{"base_url", kUpstream}})}});
}

const std::string kDenied =
    google_error(403, "PERMISSION_DENIED",
                 "You do not have permission to access the File files/abc or it may not exist.");

}  // namespace

TEST_CASE("pinned: every call on the owning key, none on the others") {
  GatewayFixture g;
  g.add_keys(3);
  auto chain = pinned_chain(g, 2);
  for (int i = 0; i < 5; ++i) g.transport->script(Answer::json(200, kOkBody));
  for (int i = 0; i < 5; ++i) {
    Exchange& x = g.run(chain);
    CHECK(g.h.downstream.response.status == 200);
    CHECK(x.info().key_id == 2);
  }
  CHECK(g.keys_sent() == std::vector<std::string>(5, pool_secret(2)));
}

TEST_CASE("pinned: a transient failure of the owning key is the answer, no failover") {
  GatewayFixture g;
  g.add_keys(3);
  auto chain = pinned_chain(g, 1);
  g.transport->script(Answer::json(503, google_error(503, "UNAVAILABLE", "overloaded")));
  g.transport->script(Answer::json(200, kOkBody));
  g.run(chain);
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.keys_sent() == std::vector<std::string>{pool_secret(1)});
}

TEST_CASE("pinned: the owning key gone or disabled is 409 saying so; nothing upstream") {
  GatewayFixture g;
  g.add_keys(2);
  auto chain = pinned_chain(g, 7);
  Exchange& gone = g.run(chain);
  CHECK(g.h.downstream.response.status == 409);
  CHECK(g.h.downstream.response.body.find("files/abc belongs to pool key 7") != std::string::npos);
  CHECK(g.h.downstream.response.body.find("FAILED_PRECONDITION") != std::string::npos);
  CHECK(gone.info().error_kind == "pinned_key_unavailable");
  g_pin = {2, "files/abc"};
  g.pool->disable(2, "test");
  g.run(chain);
  CHECK(g.h.downstream.response.status == 409);
  CHECK(g.h.downstream.response.body.find("disabled") != std::string::npos);
  CHECK(g.transport->requests.empty());
}

TEST_CASE("pinned: the owning key's quota answer stands, then cooling is 503 + Retry-After") {
  GatewayFixture g;
  g.add_keys(3);
  auto chain = pinned_chain(g, 3);
  g.transport->script(Answer::json(429, quota_body("40s")));
  g.run(chain);
  CHECK(g.h.downstream.response.status == 429);
  g.run(chain);
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.h.downstream.response.body.find("cooling down") != std::string::npos);
  auto retry_after = g.h.downstream.response.headers.get("retry-after");
  REQUIRE(retry_after);
  CHECK(std::stoi(std::string(*retry_after)) >= 30);
  CHECK(g.keys_sent() == std::vector<std::string>{pool_secret(3)});
}

TEST_CASE("pinned: a key at its own rpm is 503 + Retry-After; pinned calls count in its window") {
  GatewayFixture g;
  g.add_keys(2);
  pool::KeyPolicy p;
  p.rpm = 2;
  g.pool->set_policy(1, p);
  auto chain = pinned_chain(g, 1);
  for (int i = 0; i < 2; ++i) g.transport->script(Answer::json(200, kOkBody));
  g.run(chain);
  g.run(chain);
  g.run(chain);
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.h.downstream.response.body.find("requests-per-minute") != std::string::npos);
  CHECK(g.h.downstream.response.headers.has("retry-after"));
  CHECK(g.keys_sent() == std::vector<std::string>(2, pool_secret(1)));
}

TEST_CASE("pinned: Google's 403 for the resource is the client's answer; the key stays healthy") {
  GatewayFixture g;
  g.add_keys(2);
  auto chain = pinned_chain(g, 1);
  g.transport->script(Answer::json(403, kDenied));
  g.run(chain);
  CHECK(g.h.downstream.response.status == 403);
  CHECK(g.keys_sent() == std::vector<std::string>{pool_secret(1)});
  auto key = g.pool->find(1);
  REQUIRE(key);
  CHECK_FALSE(key->disabled());
  g.transport->script(Answer::json(200, kOkBody));
  g.run(chain);
  CHECK(g.h.downstream.response.status == 200);
}

TEST_CASE("pinned: the token's key group does not apply (the resource chose the key)") {
  GatewayFixture g;
  g.add_keys(2);
  pool::KeyPolicy paid;
  paid.group = "paid";
  g.pool->set_policy(1, paid);
  auto chain = pinned_chain(g, 2);
  g_group = "paid";
  g.transport->script(Answer::json(200, kOkBody));
  g.run(chain);
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.keys_sent() == std::vector<std::string>{pool_secret(2)});
}
