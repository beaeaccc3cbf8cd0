// The healthz filter: its answer.
#include <doctest/doctest.h>

#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

TEST_CASE("healthz answers 200 {\"status\":\"ok\"}, not cached") {
  GatewayFixture g;
  auto chain = g.chain({{"log", config_map({{"access_log", "false"}})}, {"healthz", ConfigNode()}});
  Exchange& x = g.run(chain, "/healthz");
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.h.downstream.response.body == R"({"status":"ok"})");
  CHECK(*g.h.downstream.response.headers.get("cache-control") == "no-store");
  CHECK(g.transport->requests.empty());
  REQUIRE(g.sink->requests.size() == 1);
  CHECK(g.sink->requests[0].status == 200);
  CHECK(x.info().status == 200);
}
