// The cron health check: the endpoint's secret check, and the check itself — only disabled or
// cooling keys are probed (at most `concurrency` at once), a key that answers 200 comes back,
// a quota answer keeps it cooling, an invalid key is disabled, and the JSON report.
#include <doctest/doctest.h>

#include "admin/cron_filter.h"
#include "admin/health_check.h"
#include "core/registry.h"
#include "pool/key_pool.h"
#include "tests/unit/support/chain_harness.h"
#include "tests/unit/support/fake_transport.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

const std::string kBase = "http://google.test";

std::string secret(int64_t id) {
  return "AIzaSyCRONKEY" + std::to_string(id) + "-xxxxxxxxxxxxxxxxxxxxxx";
}

struct CronFixture {
  CronFixture() {
    REQUIRE(admin::register_cron_filter(registry).ok());
    services.put(pool);
    h.worker.services().put<transport::Transport>(transport);
    std::vector<std::pair<std::string, pool::KeyHealth>> list;
    for (int64_t id = 1; id <= 3; ++id) {
      pool::KeyHealth health;
      health.id = id;
      list.emplace_back(secret(id), health);
    }
    pool->set_keys(std::move(list));
  }

  std::shared_ptr<const ChainSpec> chain(const std::string& cron_secret) {
    ConfigNode root = ConfigNode::map(Mark{"c.yaml", 1, 1});
    ConfigNode list = ConfigNode::sequence(Mark{"c.yaml", 2, 3});
    ConfigNode item = ConfigNode::map(Mark{"c.yaml", 3, 5});
    ConfigNode cfg = ConfigNode::map(Mark{"c.yaml", 3, 25});
    cfg.put("secret", ConfigNode::scalar(cron_secret, Mark{"c.yaml", 4, 15}));
    cfg.put("base_url", ConfigNode::scalar(kBase + "/", Mark{"c.yaml", 5, 17}));
    item.put("cron_health_check", cfg);
    list.push(item);
    root.put("filters", list);
    ConfigErrors errors;
    auto spec = build_chain("cron", root, registry, services, errors);
    REQUIRE(spec);
    return spec;
  }

  std::shared_ptr<const Settings> settings() {
    return std::make_shared<const Settings>(registry.shared_settings_schema(),
                                            std::unordered_map<std::string, SettingValue>{});
  }

  Exchange& call(const std::string& cron_secret, const std::string& authorization,
                 const std::string& method = "GET") {
    Exchange& x = h.start_with(
        chain(cron_secret),
        [&](http::Request& r) {
          r.method = method;
          r.path = "/api/cron/health-check";
          if (!authorization.empty()) r.headers.set("authorization", authorization);
        },
        settings());
    run_until(h.worker, [&] { return x.finished(); });
    return x;
  }

  void cool(int64_t id, const std::string& model) {
    pool::Outcome quota;
    quota.kind = pool::OutcomeKind::kQuota;
    quota.retry_delay_ms = 600'000;
    pool->record(*pool->find(id), model, quota, pool::PoolPolicy{}, now_unix_ms());
  }

  Registry registry;
  Services services;
  std::shared_ptr<pool::KeyPool> pool = std::make_shared<pool::KeyPool>();
  Harness h;
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>(h.worker);
};

}  // namespace

TEST_CASE("the cron endpoint refuses everyone while CRON_SECRET is unset") {
  CronFixture f;
  f.call("", "Bearer ");
  CHECK(f.h.downstream.response.status == 401);
  CHECK(f.h.downstream.response.body.find("CRON_SECRET is not set") != std::string::npos);
  CHECK(f.transport->requests.empty());
}

TEST_CASE("the cron endpoint needs the exact Bearer secret") {
  CronFixture f;
  for (const char* wrong : {"", "Bearer nope", "Bearer s3cret-cron-value ", "s3cret-cron-value",
                            "Basic s3cret-cron-value"}) {
    CAPTURE(wrong);
    f.h.downstream = FakeDownstream();
    f.call("s3cret-cron-value", wrong);
    CHECK(f.h.downstream.response.status == 401);
  }
  f.h.downstream = FakeDownstream();
  f.call("s3cret-cron-value", "Bearer s3cret-cron-value", "DELETE");
  CHECK(f.h.downstream.response.status == 405);
  CHECK(f.transport->requests.empty());
}

TEST_CASE("a health check probes only disabled or cooling keys and reports each") {
  CronFixture f;
  f.pool->disable(1, "3 consecutive failures");
  f.cool(2, "gemini-2.5-flash-lite");
  // Key 3 is healthy and must not be probed.
  f.transport->script(Answer::json(200, "{}"));  // key 1 answers again
  f.transport->script(Answer::json(429, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}})"));
  f.call("s3cret", "Bearer s3cret");
  CHECK(f.h.downstream.response.status == 200);
  CHECK(
      f.h.downstream.response.body ==
      R"({"checked":2,"reactivated":1,"still_failing":[{"id":2,"reason":"RESOURCE_EXHAUSTED"}]})");
  REQUIRE(f.transport->requests.size() == 2);
  const transport::UpstreamRequest& probe = f.transport->requests[0];
  CHECK(probe.url == kBase + "/v1beta/models/gemini-2.5-flash-lite:generateContent");
  CHECK(*probe.headers.get("x-goog-api-key") == secret(1));
  CHECK(*f.transport->requests[1].headers.get("x-goog-api-key") == secret(2));
  CHECK_FALSE(f.pool->find(1)->disabled());
  CHECK(f.pool->find(1)->health().last_checked_ms > 0);
  int64_t until = 0;
  CHECK_FALSE(f.pool->find(2)->usable_for("gemini-2.5-flash-lite", now_unix_ms(), &until));
}

TEST_CASE("a cooling key that now answers has its cooldowns lifted; an invalid one is disabled") {
  CronFixture f;
  f.cool(1, "gemini-2.5-flash-lite");
  f.cool(1, "");  // model-wide
  f.cool(2, "gemini-2.5-pro");
  f.transport->script(Answer::json(200, "{}"));
  f.transport->script(Answer::json(
      400, R"({"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}})"));
  f.call("s3cret", "Bearer s3cret");
  CHECK(f.h.downstream.response.body.find("\"reactivated\":1") != std::string::npos);
  int64_t until = 0;
  int64_t now = now_unix_ms();
  CHECK(f.pool->find(1)->usable_for("gemini-2.5-flash-lite", now, &until));
  CHECK(f.pool->find(1)->usable_for("gemini-2.5-pro", now, &until));
  CHECK(f.pool->find(2)->disabled());
}

TEST_CASE("nothing to check: an immediate empty report") {
  CronFixture f;
  f.call("s3cret", "Bearer s3cret");
  CHECK(f.h.downstream.response.body == R"({"checked":0,"reactivated":0,"still_failing":[]})");
  CHECK(f.transport->requests.empty());
}

TEST_CASE("run_health_check keeps at most `concurrency` probes in flight") {
  CronFixture f;
  for (int64_t id = 1; id <= 3; ++id) f.pool->disable(id, "x");
  for (int i = 0; i < 3; ++i) {
    Answer held;
    held.hold = true;
    f.transport->script(held);
  }
  admin::HealthCheckOptions options;
  options.base_url = kBase;
  options.model = "m";
  options.concurrency = 2;
  std::optional<admin::HealthCheckResult> result;
  admin::run_health_check(f.h.worker, f.pool, options,
                          [&](admin::HealthCheckResult r) { result = r; });
  CHECK(f.transport->transfers.size() == 2);
  f.transport->transfers[0]->head(200);
  f.transport->transfers[0]->done();
  CHECK(f.transport->transfers.size() == 3);
  f.transport->transfers[1]->done(nullptr);  // no head: status 0 → a failure
  transport::Failure timeout{transport::FailureKind::kTimeout, "slow", false};
  f.transport->transfers[2]->done(&timeout);
  f.h.turn();
  REQUIRE(result);
  CHECK(result->checked == 3);
  CHECK(result->reactivated == 1);
  CHECK(result->still_failing.size() == 2);
  CHECK(f.pool->find(1)->disabled() == false);
  CHECK(f.pool->find(3)->disabled());
}

TEST_CASE("run_health_check with explicit ids probes exactly those") {
  CronFixture f;
  admin::HealthCheckOptions options;
  options.base_url = kBase;
  options.model = "m";
  options.ids = {3};
  std::optional<admin::HealthCheckResult> result;
  admin::run_health_check(f.h.worker, f.pool, options,
                          [&](admin::HealthCheckResult r) { result = r; });
  CHECK(run_until(f.h.worker, [&] { return result.has_value(); }));
  REQUIRE(f.transport->requests.size() == 1);
  CHECK(*f.transport->requests[0].headers.get("x-goog-api-key") == secret(3));
  CHECK(result->checked == 1);
  CHECK(result->reactivated == 0);  // it was healthy already
}

TEST_CASE("a key's probe leaves through its own proxy; the others through the global one") {
  CronFixture f;
  pool::KeyPolicy own;
  own.proxy = "socks5h://probe-proxy.test:1080";
  REQUIRE(f.pool->set_policy(3, own));
  admin::HealthCheckOptions options;
  options.base_url = kBase;
  options.model = "m";
  options.proxy = "http://global-proxy.test:3128";
  options.ids = {2, 3};
  std::optional<admin::HealthCheckResult> result;
  admin::run_health_check(f.h.worker, f.pool, options,
                          [&](admin::HealthCheckResult r) { result = r; });
  CHECK(run_until(f.h.worker, [&] { return result.has_value(); }));
  REQUIRE(f.transport->requests.size() == 2);
  for (const auto& r : f.transport->requests) {
    bool is_three = *r.headers.get("x-goog-api-key") == secret(3);
    CHECK(r.proxy == (is_three ? own.proxy : options.proxy));
  }
}
