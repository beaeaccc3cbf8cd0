// conf::load_yaml: YAML text → ConfigNode with positions; syntax errors and duplicate keys
// reported where they are; ${VAR} and ${VAR:-fallback} from an injectable environment.
#include "conf/yaml_loader.h"

#include <doctest/doctest.h>
#include <map>

#include "tests/unit/support/printers.h"

using namespace gemgate;
using namespace gemgate::conf;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::optional<ConfigNode> load(const std::string& text, ConfigErrors& errors,
                               std::map<std::string, std::string> vars = {}) {
  return load_yaml(text, "g.yaml", env_of(std::move(vars)), errors);
}

}  // namespace

TEST_CASE("maps, sequences and scalars keep their line and column") {
  ConfigErrors e;
  auto root = load("top:\n  name: gemgate\n  list:\n    - a\n    - {x: 1}\nempty:\n", e);
  REQUIRE(root);
  CHECK(e.empty());
  const ConfigNode* top = root->get("top");
  REQUIRE(top);
  CHECK(top->is_map());
  CHECK(top->mark().line == 2);
  CHECK(top->get("name")->text() == "gemgate");
  CHECK(top->get("name")->mark().line == 2);
  CHECK(top->get("name")->mark().column == 9);
  CHECK(top->get("name")->mark().file == "g.yaml");
  const ConfigNode* list = top->get("list");
  REQUIRE(list->is_sequence());
  REQUIRE(list->items().size() == 2);
  CHECK(list->items()[0].text() == "a");
  CHECK(list->items()[0].mark().line == 4);
  CHECK(list->items()[0].mark().column == 7);
  CHECK(list->items()[1].get("x")->text() == "1");
  CHECK(list->items()[1].get("x")->mark().line == 5);
  CHECK(root->get("empty")->is_null());
  CHECK(root->entries()[0].first == "top");  // file order
  CHECK(root->entries()[1].first == "empty");
}

TEST_CASE("a syntax error is reported with its position and no tree") {
  ConfigErrors e;
  CHECK_FALSE(load("a: 1\nb: [1, 2\nc: 3\n", e));
  REQUIRE(e.size() == 1);
  CHECK(e.lines()[0].starts_with("g.yaml:"));
  CHECK(e.lines()[0].find(":0:") == std::string::npos);  // a real line, 1-based
  ConfigErrors tabs;
  CHECK_FALSE(load("a:\n\t- b\n", tabs));
  CHECK(tabs.lines().at(0).starts_with("g.yaml:2:"));
}

TEST_CASE("a duplicate key is an error at the second occurrence") {
  ConfigErrors e;
  auto root = load("settings:\n  max_retries: 3\n  max_retries: 5\n", e);
  REQUIRE(root);
  CHECK(e.lines() == std::vector<std::string>{"g.yaml:3:3: duplicate key 'max_retries'"});
  CHECK(root->get("settings")->get("max_retries")->text() == "3");  // the first one stays
}

TEST_CASE("keys that are not plain names are refused") {
  ConfigErrors e;
  auto root = load("? [a, b]\n: 1\n", e);
  REQUIRE(root);
  REQUIRE(e.size() == 1);
  CHECK(e.lines()[0].find("map keys must be plain names") != std::string::npos);
}

TEST_CASE("${VAR} and ${VAR:-fallback}") {
  ConfigErrors e;
  auto root = load(
      "a: ${HOST}\n"
      "b: http://${HOST}:${PORT:-8080}/x\n"
      "c: ${UNSET:-fallback value}\n"
      "d: ${EMPTY:-used when empty}\n"
      "e: ${EMPTY}\n"
      "f: ${UNSET:-}\n"
      "g: plain $HOST and $ {HOST}\n",
      e, {{"HOST", "example.org"}, {"EMPTY", ""}});
  REQUIRE(root);
  CHECK(e.empty());
  CHECK(root->get("a")->text() == "example.org");
  CHECK(root->get("b")->text() == "http://example.org:8080/x");
  CHECK(root->get("c")->text() == "fallback value");
  CHECK(root->get("d")->text() == "used when empty");
  CHECK(root->get("e")->text() == "");
  CHECK(root->get("f")->text() == "");
  CHECK(root->get("g")->text() == "plain $HOST and $ {HOST}");
}

TEST_CASE("an unset variable without fallback is an error at its scalar, the tree still returned") {
  ConfigErrors e;
  auto root = load("storage:\n  database_url: ${DATABASE_URL}\n", e);
  REQUIRE(root);
  REQUIRE(e.size() == 1);
  CHECK(e.lines()[0].starts_with("g.yaml:2:17: environment variable DATABASE_URL is not set"));
}

TEST_CASE("malformed references are errors") {
  ConfigErrors e;
  auto root = load("a: ${BAD-NAME}\nb: ${}\nc: ${OPEN\n", e);
  REQUIRE(root);
  CHECK(e.size() == 3);
  CHECK(e.lines()[0].find("bad environment reference") != std::string::npos);
  CHECK(e.lines()[2].find("unterminated") != std::string::npos);
}

TEST_CASE("substituted values are not parsed again as YAML or as references") {
  ConfigErrors e;
  auto root = load("a: ${V}\n", e, {{"V", "${OTHER} [x]: {y}"}});
  REQUIRE(root);
  CHECK(e.empty());
  CHECK(root->get("a")->text() == "${OTHER} [x]: {y}");
}

TEST_CASE("anchors and aliases resolve to the same text") {
  ConfigErrors e;
  auto root = load("base: &g ${H:-https://g.example}\nuse:\n  url: *g\n", e);
  REQUIRE(root);
  CHECK(root->get("use")->get("url")->text() == "https://g.example");
}

TEST_CASE("absurdly deep nesting is refused") {
  std::string deep;
  for (int i = 0; i < 80; ++i) deep += "[";
  for (int i = 0; i < 80; ++i) deep += "]";
  ConfigErrors e;
  auto root = load("a: " + deep + "\n", e);
  CHECK_FALSE(e.empty());
  CHECK(e.lines()[0].find("nested too deeply") != std::string::npos);
}

TEST_CASE("an error at a value read from the environment names the variable") {
  ConfigErrors e;
  auto root = load("a: ${HEAD_TIMEOUT}\nb: ${UNSET:-5s}\nc: x${P}y${Q}\n", e,
                   {{"HEAD_TIMEOUT", "soon"}, {"P", "1"}, {"Q", "2"}});
  REQUIRE(root);
  CHECK(e.empty());
  CHECK(root->get("a")->mark().env == "HEAD_TIMEOUT");
  CHECK(root->get("b")->mark().env == "");  // the fallback was used: it came from the file
  CHECK(root->get("c")->mark().env == "P, Q");
  int64_t ms = 0;
  CHECK_FALSE(config::read_duration_ms(*root, "a", &ms, e));
  REQUIRE(e.size() == 1);
  CHECK(e.lines()[0] ==
        "g.yaml:1:4: 'a' must be a duration like 250ms, 10s, 5m, 2h; got 'soon' (the value came "
        "from environment variable HEAD_TIMEOUT)");
  CHECK(e.errors()[0].at.line == 1);
  CHECK(e.errors()[0].at.column == 4);
}
