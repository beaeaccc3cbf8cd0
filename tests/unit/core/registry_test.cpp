// Registry and build_chain: registration rules, and chain errors reported at the right node
// (unknown filter, no terminal, a filter after the terminal, bad typed config, bad dialect).
#include "core/registry.h"

#include <doctest/doctest.h>

#include "core/router.h"
#include "tests/unit/support/gemini_dialect.h"
#include "tests/unit/support/printers.h"

using namespace gemgate;

namespace {

Mark at(int line, int column) {
  return Mark{"c.yaml", line, column};
}

class Nop final : public Filter {};

// A filter type whose config allows one int key `n` in 1..5.
FilterType type_named(std::string name, bool terminal) {
  FilterType t;
  t.name = std::move(name);
  t.terminal = terminal;
  t.create = [](const ConfigNode& config, FilterContext&,
                ConfigErrors& errors) -> std::optional<FilterFactory> {
    size_t before = errors.size();
    config::expect_keys(config, {"n"}, errors);
    int64_t n = 1;
    if (config.is_map()) config::read_int(config, "n", 1, 5, &n, errors);
    if (errors.size() != before) return std::nullopt;
    return FilterFactory([] { return std::make_unique<Nop>(); });
  };
  return t;
}

Registry make_registry() {
  Registry r;
  REQUIRE(r.add_filter(type_named("first", false)).ok());
  REQUIRE(r.add_filter(type_named("middle", false)).ok());
  REQUIRE(r.add_filter(type_named("answer", true)).ok());
  return r;
}

// Builds { filters: [ {name: config}, ... ] }; item i sits on line 2+i, column 5.
ConfigNode chain_node(const std::vector<std::pair<std::string, ConfigNode>>& filters) {
  ConfigNode root = ConfigNode::map(at(1, 1));
  ConfigNode list = ConfigNode::sequence(at(2, 3));
  int line = 2;
  for (const auto& [name, config] : filters) {
    ConfigNode item = ConfigNode::map(at(line++, 5));
    item.put(name, config);
    list.push(item);
  }
  root.put("filters", list);
  return root;
}

ConfigNode config_with(const std::string& key, const std::string& value, int line) {
  ConfigNode m = ConfigNode::map(at(line, 12));
  m.put(key, ConfigNode::scalar(value, at(line, 15)));
  return m;
}

}  // namespace

TEST_CASE("a filter name can be registered once; a type needs a name and create()") {
  Registry r;
  CHECK(r.add_filter(type_named("x", false)).ok());
  auto dup = r.add_filter(type_named("x", true));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message == "filter 'x' is registered twice");
  CHECK_FALSE(r.find_filter("x")->terminal);  // the first registration stays
  CHECK_FALSE(r.add_filter(FilterType{}).ok());
  CHECK(r.filter_names() == std::vector<std::string>{"x"});
  CHECK(r.find_filter("y") == nullptr);
}

TEST_CASE("error formats: a bare registry has none; chains then render core's JSON errors") {
  Registry r = make_registry();
  CHECK(r.find_error_format("google") == nullptr);
  CHECK(r.default_error_format().empty());
  Services s;
  ConfigErrors e;
  auto spec = build_chain("c", chain_node({{"answer", ConfigNode()}}), r, s, e);
  REQUIRE(spec);
  http::LocalError err{404, "NOT_FOUND", "no", ""};
  CHECK(spec->render_error(err) == render_json_error(err));
  CHECK_FALSE(r.set_default_error_format("klingon").ok());
  REQUIRE(
      r.add_error_format("plain", [](const http::LocalError&) { return std::string("!"); }).ok());
  REQUIRE(r.set_default_error_format("plain").ok());
  spec = build_chain("c", chain_node({{"answer", ConfigNode()}}), r, s, e);
  REQUIRE(spec);
  CHECK(spec->render_error(err) == "!");
}

TEST_CASE("error formats: google exists once conf's Gemini dialect is in; duplicates refused") {
  Registry r = test::gemini_registry();
  REQUIRE(r.find_error_format("google") != nullptr);
  CHECK_FALSE(r.add_error_format("google", &gemini::render_google_error).ok());
  CHECK(
      r.add_error_format("openai", [](const http::LocalError&) { return std::string("{}"); }).ok());
  CHECK((*r.find_error_format("openai"))({}) == "{}");
}

TEST_CASE("a valid chain builds with its factories in order") {
  Registry r = make_registry();
  Services s;
  ConfigErrors e;
  auto spec = build_chain(
      "c", chain_node({{"first", ConfigNode()}, {"answer", config_with("n", "3", 3)}}), r, s, e);
  CHECK(e.lines() == std::vector<std::string>{});
  REQUIRE(spec);
  CHECK(spec->name == "c");
  CHECK(spec->filter_names == std::vector<std::string>{"first", "answer"});
  CHECK(spec->factories.size() == 2);
  CHECK(spec->render_error);
  CHECK(spec->factories[0]() != nullptr);
}

TEST_CASE("an unknown filter is reported at its list item, with the known names") {
  Registry r = make_registry();
  Services s;
  ConfigErrors e;
  auto spec =
      build_chain("c", chain_node({{"frist", ConfigNode()}, {"answer", ConfigNode()}}), r, s, e);
  CHECK(spec == nullptr);
  CHECK(e.lines() ==
        std::vector<std::string>{"c.yaml:2:5: unknown filter 'frist' (did you mean 'first'?)"});
}

TEST_CASE("a chain without a terminal filter is reported at its filters list") {
  Registry r = make_registry();
  Services s;
  ConfigErrors e;
  CHECK(build_chain("c", chain_node({{"first", ConfigNode()}, {"middle", ConfigNode()}}), r, s,
                    e) == nullptr);
  REQUIRE(e.size() == 1);
  CHECK(e.lines()[0].starts_with("c.yaml:2:3: chain 'c' has no terminal filter"));
}

TEST_CASE("a filter after the terminal is reported at that filter") {
  Registry r = make_registry();
  Services s;
  ConfigErrors e;
  CHECK(
      build_chain(
          "c",
          chain_node({{"first", ConfigNode()}, {"answer", ConfigNode()}, {"middle", ConfigNode()}}),
          r, s, e) == nullptr);
  CHECK(e.lines() ==
        std::vector<std::string>{"c.yaml:4:5: filter 'middle' comes after the terminal "
                                 "filter 'answer', which must be last"});
}

TEST_CASE("bad typed config: unknown key and wrong type, each at its own node") {
  Registry r = make_registry();
  Services s;
  ConfigErrors e;
  CHECK(build_chain("c",
                    chain_node({{"first", config_with("m", "1", 2)},
                                {"answer", config_with("n", "many", 3)}}),
                    r, s, e) == nullptr);
  CHECK(e.lines() ==
        std::vector<std::string>{"c.yaml:2:15: unknown key 'm' (expected one of: n)",
                                 "c.yaml:3:15: 'n' must be a whole number, got 'many'"});
}

TEST_CASE("chain shape errors: not a map, empty filters, item with two names, bad dialect") {
  Registry r = make_registry();
  Services s;
  {
    ConfigErrors e;
    CHECK(build_chain("c", ConfigNode::scalar("x", at(7, 3)), r, s, e) == nullptr);
    CHECK(e.lines().at(0) == "c.yaml:7:3: chain 'c' must be a map with 'filters'");
  }
  {
    ConfigErrors e;
    CHECK(build_chain("c", chain_node({}), r, s, e) == nullptr);
    CHECK(e.lines().at(0) == "c.yaml:2:3: chain 'c' needs a non-empty 'filters' list");
  }
  {
    ConfigErrors e;
    ConfigNode root = chain_node({{"answer", ConfigNode()}});
    ConfigNode two = ConfigNode::map(at(9, 5));
    two.put("first", ConfigNode());
    two.put("middle", ConfigNode());
    ConfigNode fixed = ConfigNode::map(at(1, 1));
    ConfigNode list = ConfigNode::sequence(at(2, 3));
    list.push(two);
    list.push(root.get("filters")->items()[0]);
    fixed.put("filters", list);
    fixed.put("errors", ConfigNode::scalar("klingon", at(8, 9)));
    CHECK(build_chain("c", fixed, r, s, e) == nullptr);
    CHECK(e.lines() ==
          std::vector<std::string>{"c.yaml:8:9: unknown error format 'klingon'",
                                   "c.yaml:9:5: each filter is written as '- <name>: <config>'"});
  }
}

namespace {

struct SinkConfig {
  std::string url;
  bool loud = false;
  int64_t cap = 7;
};

Registry typed_registry(std::vector<std::string>* built) {
  Registry r;
  REQUIRE(r.add_filter(type_named("first", false)).ok());
  REQUIRE(
      r
          .add_filter(FilterDef<SinkConfig>{
              .name = "sink",
              .summary = "a typed terminal",
              .terminal = true,
              .fields = {field::base_url("url", &SinkConfig::url),
                         field::flag("loud", &SinkConfig::loud),
                         field::size("cap", &SinkConfig::cap)},
              .build = [built](const FilterBuild<SinkConfig>& b) -> std::optional<FilterFactory> {
                built->push_back(b.config->url + " " + std::to_string(b.config->cap) +
                                 (b.config->loud ? " loud" : ""));
                return FilterFactory([] { return std::make_unique<Nop>(); });
              },
          })
          .ok());
  return r;
}

}  // namespace

TEST_CASE("a FilterDef reads its field table, refuses keys not in it, then checks") {
  std::vector<std::string> built;
  Registry r = typed_registry(&built);
  Services s;
  {
    ConfigErrors e;
    ConfigNode cfg = ConfigNode::map(at(3, 12));
    cfg.put("url", ConfigNode::scalar("https://up.test//", at(3, 15)));
    cfg.put("cap", ConfigNode::scalar("2KiB", at(4, 15)));
    cfg.put("loud", ConfigNode::scalar("yes", at(5, 15)));
    CHECK(build_chain("c", chain_node({{"first", ConfigNode()}, {"sink", cfg}}), r, s, e));
    CHECK(e.lines() == std::vector<std::string>{});
    CHECK(built == std::vector<std::string>{"https://up.test 2048 loud"});
  }
  {
    // Reads first (in table order), then checks: the bad size comes before the bad URL.
    ConfigErrors e;
    ConfigNode cfg = ConfigNode::map(at(3, 12));
    cfg.put("url", ConfigNode::scalar("ftp://x", at(3, 15)));
    cfg.put("cap", ConfigNode::scalar("lots", at(4, 15)));
    cfg.put("colour", ConfigNode::scalar("red", at(5, 15)));
    CHECK(build_chain("c", chain_node({{"sink", cfg}}), r, s, e) == nullptr);
    CHECK(e.lines() ==
          std::vector<std::string>{
              "c.yaml:5:15: unknown key 'colour' (expected one of: url, loud, cap)",
              "c.yaml:4:15: 'cap' must be a size like 32KiB or 16MiB; got 'lots'",
              "c.yaml:3:15: sink 'url' must be an http:// or https:// URL, got 'ftp://x'"});
  }
  {
    // No config at all: the required URL is reported at the filter's (empty) node.
    ConfigErrors e;
    CHECK(build_chain("c", chain_node({{"sink", ConfigNode::null_at(at(2, 11))}}), r, s, e) ==
          nullptr);
    CHECK(e.lines() == std::vector<std::string>{
                           "c.yaml:2:11: sink 'url' must be an http:// or https:// URL, got ''"});
  }
}

TEST_CASE("FilterBuild::require reports a missing service at the filter's node") {
  Registry r;
  REQUIRE(
      r.add_filter(FilterDef<NoConfig>{
                       .name = "needy",
                       .terminal = true,
                       .build = [](const FilterBuild<NoConfig>& b) -> std::optional<FilterFactory> {
                         if (!b.require<SinkConfig>("needy needs a SinkConfig")) return {};
                         return FilterFactory([] { return std::make_unique<Nop>(); });
                       },
                   })
          .ok());
  Services s;
  ConfigErrors e;
  ConfigNode cfg = ConfigNode::map(at(2, 12));
  cfg.put("x", ConfigNode::scalar("1", at(2, 15)));
  CHECK(build_chain("c", chain_node({{"needy", cfg}}), r, s, e) == nullptr);
  CHECK(e.lines() ==
        std::vector<std::string>{"c.yaml:2:15: unknown key 'x' (nothing is configurable here)",
                                 "c.yaml:2:12: needy needs a SinkConfig"});
  s.put(std::make_shared<SinkConfig>());
  ConfigErrors ok;
  CHECK(build_chain("c", chain_node({{"needy", ConfigNode()}}), r, s, ok));
  CHECK(ok.lines() == std::vector<std::string>{});
}
