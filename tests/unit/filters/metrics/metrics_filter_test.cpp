// The metrics filter: closed (404) without a token, 401 for a missing or wrong bearer, the
// registry's exposition for the right one or when open, GET only, a short token refused at load.
#include <doctest/doctest.h>

#include "core/log.h"
#include "core/metrics/metrics.h"
#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

const std::string kToken = "scrape-token-0123456789";

struct MetricsFixture : GatewayFixture {
  MetricsFixture() {
    registry_service->add([](metrics::Writer& w) {
      w.family("test_up", "gauge", "test");
      w.sample("test_up", {}, int64_t{1});
    });
    services.put(registry_service);
  }
  // Runs `method /metrics` with `authorization` (none when empty).
  const http::Response& scrape(std::shared_ptr<const ChainSpec> c, const std::string& authorization,
                               const std::string& method = "GET") {
    run(std::move(c), "/metrics", nullptr, [&](http::Request& r) {
      r.method = method;
      r.body.clear();
      r.headers = http::HeaderMap();
      if (!authorization.empty()) r.headers.set("authorization", authorization);
    });
    return h.downstream.response;
  }
  std::shared_ptr<metrics::Registry> registry_service = std::make_shared<metrics::Registry>();
};

}  // namespace

TEST_CASE("without a token and not open, /metrics does not exist") {
  MetricsFixture g;
  auto chain = g.chain({{"metrics", ConfigNode()}});
  CHECK(g.scrape(chain, "").status == 404);
  CHECK(g.scrape(chain, "Bearer " + kToken).status == 404);
}

TEST_CASE("with a token: 401 for none or a wrong one, the exposition for the right one") {
  MetricsFixture g;
  auto chain = g.chain({{"metrics", config_map({{"token", kToken}})}});
  const http::Response& none = g.scrape(chain, "");
  CHECK(none.status == 401);
  CHECK(*none.headers.get("www-authenticate") == "Bearer");
  CHECK(none.body.find("test_up") == std::string::npos);
  CHECK(g.scrape(chain, "Bearer " + kToken + "x").status == 401);
  CHECK(g.scrape(chain, "Bearer " + kToken.substr(1)).status == 401);
  CHECK(g.scrape(chain, "Basic " + kToken).status == 401);
  const http::Response& ok = g.scrape(chain, "Bearer " + kToken);
  CHECK(ok.status == 200);
  CHECK(ok.body == "# HELP test_up test\n# TYPE test_up gauge\ntest_up 1\n");
  CHECK(ok.headers.get("content-type")->starts_with("text/plain; version=0.0.4"));
  CHECK(g.scrape(chain, "bearer " + kToken).status == 200);  // the scheme is case-insensitive
  CHECK(g.scrape(chain, "Bearer " + kToken, "POST").status == 405);
  CHECK(log::redact("leaked " + kToken).find(kToken) == std::string::npos);
}

TEST_CASE("open: true serves without a token") {
  MetricsFixture g;
  auto chain = g.chain({{"metrics", config_map({{"open", "true"}})}});
  CHECK(g.scrape(chain, "").status == 200);
  CHECK(g.scrape(chain, "", "HEAD").status == 200);
}

TEST_CASE("a token under 16 characters is a load-time error at its node") {
  MetricsFixture g;
  ConfigNode root = ConfigNode::map(mk());
  ConfigNode list = ConfigNode::sequence(mk(2, 3));
  ConfigNode item = ConfigNode::map(mk(3, 5));
  item.put("metrics", config_map({{"token", "short-token"}}));
  list.push(item);
  root.put("filters", list);
  ConfigErrors errors;
  CHECK_FALSE(build_chain("metrics", root, g.registry, g.services, errors));
  REQUIRE_FALSE(errors.lines().empty());
  CHECK(errors.lines().front().find("at least 16 characters") != std::string::npos);
}
