// The log filter hands every finished request to the LogSink (unless told not to store).
#include <doctest/doctest.h>

#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

TEST_CASE("log: a request the client abandoned is still recorded, as 499") {
  GatewayFixture g;
  g.add_keys(1);
  Answer held;
  held.hold = true;
  g.transport->script(held);
  Exchange& x = g.h.start_with(
      g.gemini_chain(),
      [](http::Request& r) {
        r.method = "POST";
        r.path = kGenerate;
        r.headers.set("x-goog-api-key", kClientToken);
      },
      g.settings());
  x.cancel();
  REQUIRE(g.sink->requests.size() == 1);
  CHECK(g.sink->requests[0].status == 499);
  CHECK(g.sink->requests[0].client_aborted);
  CHECK(g.sink->requests[0].key_id == 1);
}

TEST_CASE("log with store: false writes no row") {
  GatewayFixture g;
  auto chain = g.chain({{"log", config_map({{"access_log", "false"}, {"store", "false"}})},
                        {"healthz", ConfigNode()}});
  g.run(chain, "/healthz");
  CHECK(g.h.downstream.response.status == 200);
  CHECK(g.sink->requests.empty());
}
