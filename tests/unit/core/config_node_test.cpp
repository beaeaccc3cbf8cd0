// ConfigNode and its typed readers: values in, positioned errors out ("file:line:col: ...").
#include "core/config_node.h"

#include <doctest/doctest.h>

#include "tests/unit/support/printers.h"

using namespace gemgate;

namespace {

Mark at(int line, int column) {
  return Mark{"t.yaml", line, column};
}

// A map { key: scalar } with the value at line 2, column 5.
ConfigNode one(const std::string& key, const std::string& value) {
  ConfigNode m = ConfigNode::map(at(1, 1));
  m.put(key, ConfigNode::scalar(value, at(2, 5)));
  return m;
}

}  // namespace

TEST_CASE("errors carry file:line:column, and <config> when the file is unknown") {
  ConfigErrors e;
  e.add(at(3, 7), "bad");
  e.add(Mark{}, "worse");
  CHECK(e.size() == 2);
  CHECK(e.lines()[0] == "t.yaml:3:7: bad");
  CHECK(e.lines()[1] == "<config>:0:0: worse");
}

TEST_CASE("node kinds and map lookup") {
  ConfigNode m = ConfigNode::map(at(1, 1));
  m.put("a", ConfigNode::scalar("1", at(1, 4)));
  ConfigNode seq = ConfigNode::sequence(at(2, 1));
  seq.push(ConfigNode::scalar("x", at(2, 3)));
  m.put("b", seq);
  CHECK(m.is_map());
  CHECK(m.get("a")->text() == "1");
  CHECK(m.get("b")->is_sequence());
  CHECK(m.get("b")->items().size() == 1);
  CHECK(m.get("zzz") == nullptr);
  CHECK(ConfigNode().is_null());
  CHECK(ConfigNode::scalar("x", at(1, 1)).get("x") == nullptr);  // not a map
}

TEST_CASE("durations: units, bare seconds, and malformed text") {
  int64_t ms = 0;
  CHECK(config::parse_config_duration_ms("250ms", &ms));
  CHECK(ms == 250);
  CHECK(config::parse_config_duration_ms("10s", &ms));
  CHECK(ms == 10'000);
  CHECK(config::parse_config_duration_ms("10", &ms));
  CHECK(ms == 10'000);
  CHECK(config::parse_config_duration_ms("5m", &ms));
  CHECK(ms == 300'000);
  CHECK(config::parse_config_duration_ms("2h", &ms));
  CHECK(ms == 7'200'000);
  CHECK(config::parse_config_duration_ms("1d", &ms));
  CHECK(ms == 86'400'000);
  ms = -1;
  for (const char* bad : {"", "s", "-5s", "1.5s", "10 s", "10sec", "5w", "99999999999999999999s",
                          "9223372036854775807d"}) {
    CAPTURE(bad);
    CHECK_FALSE(config::parse_config_duration_ms(bad, &ms));
  }
  CHECK(ms == -1);  // untouched on failure
}

TEST_CASE("sizes: binary units and malformed text") {
  int64_t b = 0;
  CHECK(config::parse_size("512", &b));
  CHECK(b == 512);
  CHECK(config::parse_size("64KiB", &b));
  CHECK(b == 64 * 1024);
  CHECK(config::parse_size("16MiB", &b));
  CHECK(b == 16 * 1024 * 1024);
  CHECK(config::parse_size("1GiB", &b));
  CHECK(b == 1024LL * 1024 * 1024);
  CHECK(config::parse_size("2MB", &b));
  CHECK(b == 2 * 1024 * 1024);
  for (const char* bad : {"", "KiB", "-1", "1.5MiB", "12 KiB", "3TiB", "9999999999999GiB"}) {
    CAPTURE(bad);
    CHECK_FALSE(config::parse_size(bad, &b));
  }
}

TEST_CASE("read_duration_ms / read_size report the value's position") {
  ConfigErrors e;
  int64_t v = 7;
  CHECK_FALSE(config::read_duration_ms(one("timeout", "soon"), "timeout", &v, e));
  CHECK_FALSE(config::read_size(one("limit", "big"), "limit", &v, e));
  CHECK(v == 7);
  REQUIRE(e.size() == 2);
  CHECK(e.lines()[0].starts_with("t.yaml:2:5: 'timeout' must be a duration"));
  CHECK(e.lines()[1].starts_with("t.yaml:2:5: 'limit' must be a size"));
  CHECK(config::read_duration_ms(one("timeout", "3s"), "timeout", &v, e));
  CHECK(v == 3000);
}

TEST_CASE("read_int: bounds and whole numbers") {
  ConfigErrors e;
  int64_t v = 1;
  CHECK(config::read_int(one("n", "42"), "n", 0, 100, &v, e));
  CHECK(v == 42);
  CHECK(config::read_int(one("n", "-3"), "n", -5, 5, &v, e));
  CHECK(v == -3);
  CHECK(e.empty());
  CHECK_FALSE(config::read_int(one("n", "101"), "n", 0, 100, &v, e));
  CHECK_FALSE(config::read_int(one("n", "4x"), "n", 0, 100, &v, e));
  CHECK_FALSE(config::read_int(one("n", "1.0"), "n", 0, 100, &v, e));
  CHECK_FALSE(config::read_int(one("n", "99999999999999999999"), "n", 0, INT64_MAX, &v, e));
  CHECK(v == -3);
  REQUIRE(e.size() == 4);
  CHECK(e.lines()[0] == "t.yaml:2:5: 'n' must be between 0 and 100, got 101");
  CHECK(e.lines()[1] == "t.yaml:2:5: 'n' must be a whole number, got '4x'");
}

TEST_CASE("read_bool: the YAML spellings, and anything else refused") {
  ConfigErrors e;
  bool b = false;
  for (const char* t : {"true", "yes", "on"}) {
    b = false;
    CHECK(config::read_bool(one("f", t), "f", &b, e));
    CHECK(b);
  }
  for (const char* f : {"false", "no", "off"}) {
    b = true;
    CHECK(config::read_bool(one("f", f), "f", &b, e));
    CHECK_FALSE(b);
  }
  CHECK(e.empty());
  CHECK_FALSE(config::read_bool(one("f", "1"), "f", &b, e));
  CHECK(e.lines().at(0) == "t.yaml:2:5: 'f' must be true or false, got '1'");
}

TEST_CASE(
    "absent or null keys leave the output untouched; a map where a value belongs is an error") {
  ConfigErrors e;
  ConfigNode m = ConfigNode::map(at(1, 1));
  m.put("nothing", ConfigNode());
  m.put("nested", ConfigNode::map(at(4, 3)));
  std::string s = "keep";
  int64_t n = 9;
  CHECK(config::read_string(m, "absent", &s, e));
  CHECK(config::read_string(m, "nothing", &s, e));
  CHECK(config::read_int(m, "absent", 0, 10, &n, e));
  CHECK(s == "keep");
  CHECK(n == 9);
  CHECK(e.empty());
  CHECK_FALSE(config::read_string(m, "nested", &s, e));
  CHECK(e.lines().at(0) == "t.yaml:4:3: 'nested' must be a single value");
}

TEST_CASE("read_string_list: a list of scalars; other shapes reported where they are") {
  ConfigErrors e;
  ConfigNode m = ConfigNode::map(at(1, 1));
  ConfigNode list = ConfigNode::sequence(at(2, 3));
  list.push(ConfigNode::scalar("a", at(2, 4)));
  list.push(ConfigNode::scalar("b", at(2, 7)));
  m.put("ok", list);
  ConfigNode bad = ConfigNode::sequence(at(3, 3));
  bad.push(ConfigNode::scalar("x", at(3, 4)));
  bad.push(ConfigNode::map(at(3, 9)));
  m.put("bad", bad);
  m.put("scalar", ConfigNode::scalar("x", at(4, 9)));
  std::vector<std::string> out{"old"};
  CHECK(config::read_string_list(m, "ok", &out, e));
  CHECK(out == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(config::read_string_list(m, "bad", &out, e));
  CHECK_FALSE(config::read_string_list(m, "scalar", &out, e));
  REQUIRE(e.size() == 2);
  CHECK(e.lines()[0] == "t.yaml:3:9: 'bad' items must be single values");
  CHECK(e.lines()[1] == "t.yaml:4:9: 'scalar' must be a list");
}

TEST_CASE("expect_keys names each unknown key at its value, and refuses a non-map") {
  ConfigErrors e;
  ConfigNode m = ConfigNode::map(at(1, 1));
  m.put("good", ConfigNode::scalar("1", at(1, 7)));
  m.put("typo", ConfigNode::scalar("2", at(2, 7)));
  CHECK_FALSE(config::expect_keys(m, {"good", "other"}, e));
  REQUIRE(e.size() == 1);
  CHECK(e.lines()[0] == "t.yaml:2:7: unknown key 'typo' (expected one of: good, other)");
  CHECK(config::expect_keys(ConfigNode(), {"x"}, e));  // null: nothing given
  CHECK_FALSE(config::expect_keys(ConfigNode::scalar("s", at(5, 2)), {"x"}, e));
  CHECK(e.lines().back() == "t.yaml:5:2: expected a map of settings");
}

TEST_CASE("did-you-mean: near misses are suggested, far ones and tiny words are not") {
  std::vector<std::string_view> keys = {"head_timeout", "body_timeout", "max_headers"};
  CHECK(config::closest_match("head_timout", keys) == "head_timeout");
  CHECK(config::closest_match("HEAD_TIMEOUT", keys) == "head_timeout");  // case ignored
  CHECK(config::closest_match("haed_timeout", keys) == "head_timeout");  // a swap is one edit
  CHECK(config::closest_match("max_header", keys) == "max_headers");
  CHECK(config::closest_match("colour", keys) == "");
  CHECK(config::closest_match("x", std::vector<std::string_view>{"y"}) == "");
  CHECK(config::did_you_mean("body_timeot", keys) == " (did you mean 'body_timeout'?)");
  CHECK(config::did_you_mean("nothing_like_it", keys) == "");
}

TEST_CASE("an unknown key with a near miss gets the suggestion instead of the list") {
  ConfigErrors e;
  ConfigNode m = ConfigNode::map(Mark{"t.yaml", 1, 1});
  m.put("head_timout", ConfigNode::scalar("1s", Mark{"t.yaml", 2, 15}));
  CHECK_FALSE(config::expect_keys(m, {"head_timeout", "body_timeout"}, e));
  CHECK(e.lines() ==
        std::vector<std::string>{"t.yaml:2:15: unknown key 'head_timout' (did you mean "
                                 "'head_timeout'?)"});
}
