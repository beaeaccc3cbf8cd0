// register_builtin_filters and the factories of the filters without config: the retry, keys and
// healthz factories check their config and wiring; every built-in setting has its default.
#include <doctest/doctest.h>

#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

TEST_CASE("retry, keys and healthz take no settings; keys needs the key pool") {
  GatewayFixture g;
  for (const char* name : {"retry", "keys", "healthz"}) {
    CAPTURE(name);
    ConfigErrors errors;
    ConfigNode root = ConfigNode::map(mk());
    ConfigNode list = ConfigNode::sequence(mk(2, 3));
    ConfigNode item = ConfigNode::map(mk(3, 5));
    item.put(name, config_map({{"attempts", "3"}}));
    list.push(item);
    root.put("filters", list);
    build_chain("c", root, g.registry, g.services, errors);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors.lines()[0].starts_with("test.yaml:2:7: unknown key 'attempts'"));
  }
  Services empty;
  ConfigErrors errors;
  ConfigNode root = ConfigNode::map(mk());
  ConfigNode list = ConfigNode::sequence(mk(2, 3));
  ConfigNode keys_item = ConfigNode::map(mk(3, 5));
  keys_item.put("keys", ConfigNode());
  ConfigNode healthz_item = ConfigNode::map(mk(4, 5));
  healthz_item.put("healthz", ConfigNode());
  list.push(keys_item);
  list.push(healthz_item);
  root.put("filters", list);
  CHECK(build_chain("c", root, g.registry, empty, errors) == nullptr);
  CHECK(errors.lines().at(0).find("needs a key pool") != std::string::npos);
}

TEST_CASE("the built-in filters declare their settings with sane defaults") {
  GatewayFixture g;
  auto s = g.settings();
  CHECK(s->get_int("max_retries") == 3);
  CHECK(s->get_int("max_failures") == 3);
  CHECK(s->get_int("cooldown_default_s") == 60);
  CHECK(s->get_int("cooldown_max_s") == 3600);
  CHECK(s->get_int("upstream_connect_timeout_ms") == 10'000);
  CHECK(s->get_string("upstream_proxy").empty());
  Registry again;
  CHECK(register_builtin_filters(again).ok());
  CHECK_FALSE(register_builtin_filters(again).ok());  // registering twice is refused
}
