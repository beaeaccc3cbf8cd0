// The `models` filter (live settings model_aliases and hidden_models) in a Gemini chain (log,
// auth, models, retry, keys, upstream) against a scripted transport: aliases rewrite the model
// in the upstream path and appear in model lists; hidden models are refused and left out.
#include "filters/models/models_filter.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>
#include <vector>

#include "core/text.h"
#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

const std::string kList =
    R"({"models":[{"name":"models/gemini-2.5-flash","displayName":"Flash"},)"
    R"({"name":"models/gemini-1.5-pro","displayName":"Old"},{"name":"models/gemini-2.5-pro"}]})";

std::shared_ptr<const ChainSpec> models_chain(GatewayFixture& g) {
  return g.chain({{"log", config_map({{"access_log", "false"}})},
                  {"auth", ConfigNode()},
                  {"models", ConfigNode()},
                  {"retry", ConfigNode()},
                  {"keys", ConfigNode()},
                  {"upstream", config_map({{"base_url", kUpstream}})}});
}

std::shared_ptr<const Settings> rules(GatewayFixture& g) {
  return g.settings(
      {{"model_aliases", R"({"my-fast":"gemini-2.5-flash","my-old":"gemini-1.5-pro"})"},
       {"hidden_models", R"(["gemini-1.5-pro"])"}});
}

// Runs GET /v1beta/models with `snapshot` and returns the names in the answer, in order.
std::vector<std::string> listed(GatewayFixture& g, std::shared_ptr<const Settings> snapshot) {
  g.transport->script(Answer::json(200, kList));
  g.run(models_chain(g), "/v1beta/models", snapshot, [](http::Request& r) {
    r.method = "GET";
    r.body.clear();
  });
  rapidjson::Document doc;
  doc.Parse(g.h.downstream.response.body.c_str());
  REQUIRE(doc.IsObject());
  std::vector<std::string> names;
  for (const auto& m : doc["models"].GetArray()) names.emplace_back(m["name"].GetString());
  return names;
}

// Runs POST `path` as a connection would start it: StreamInfo::path is the client's path (the
// filter names the requested model from it in its 404).
void run_as_client(GatewayFixture& g, const std::string& path,
                   std::shared_ptr<const Settings> snapshot) {
  g.h.downstream = FakeDownstream();
  g.h.exchange =
      std::make_unique<Exchange>(g.h.worker, models_chain(g), std::move(snapshot), g.h.downstream);
  Exchange& x = *g.h.exchange;
  x.info().path = path;
  x.request().method = "POST";
  x.request().path = path;
  x.request().headers.set("x-goog-api-key", kClientToken);
  x.request().body = R"({"contents":[{"parts":[{"text":"hi"}]}]})";
  x.start();
  REQUIRE(run_until(g.h.worker, [&] { return x.finished(); }));
}

}  // namespace

TEST_CASE("models: a request for an alias goes to its target model") {
  GatewayFixture g;
  g.add_keys(1);
  g.run(models_chain(g), "/v1beta/models/my-fast:generateContent", rules(g));
  REQUIRE(g.transport->requests.size() == 1);
  CHECK(g.transport->requests[0].url == kUpstream + kGenerate);
  CHECK(g.h.downstream.response.status == 200);
}

TEST_CASE("models: a hidden model is refused with 404, also when reached through an alias") {
  GatewayFixture g;
  g.add_keys(1);
  for (const char* model : {"gemini-1.5-pro", "my-old"}) {
    CAPTURE(model);
    run_as_client(g, std::string("/v1beta/models/") + model + ":generateContent", rules(g));
    CHECK(g.h.downstream.response.status == 404);
    CHECK(g.h.downstream.response.body.find(std::string("model ") + model + " is not available") !=
          std::string::npos);
  }
  CHECK(g.transport->requests.empty());
}

TEST_CASE("models: other models pass untouched") {
  GatewayFixture g;
  g.add_keys(1);
  g.run(models_chain(g), "/v1beta/models/gemini-2.5-pro:generateContent", rules(g));
  REQUIRE(g.transport->requests.size() == 1);
  CHECK(g.transport->requests[0].url ==
        kUpstream + "/v1beta/models/gemini-2.5-pro:generateContent");
}

TEST_CASE("models: lists leave hidden models out and show each alias as a copy of its target") {
  GatewayFixture g;
  g.add_keys(1);
  CHECK(listed(g, rules(g)) == std::vector<std::string>{"models/my-fast", "models/gemini-2.5-flash",
                                                        "models/gemini-2.5-pro"});
  rapidjson::Document doc;
  doc.Parse(g.h.downstream.response.body.c_str());
  CHECK(std::string(doc["models"][0]["displayName"].GetString()) ==
        "Flash");  // the alias copies its target's fields
}

TEST_CASE("models: without rules a list passes byte for byte") {
  GatewayFixture g;
  g.add_keys(1);
  listed(g, g.settings());
  CHECK(g.h.downstream.response.body == kList);
}

TEST_CASE("models: an error answer to a list is not rewritten") {
  GatewayFixture g;
  g.add_keys(1);
  std::string error = google_error(400, "INVALID_ARGUMENT", "bad page token");
  g.transport->script(Answer::json(400, error));
  g.run(models_chain(g), "/v1beta/models", rules(g), [](http::Request& r) {
    r.method = "GET";
    r.body.clear();
  });
  CHECK(g.h.downstream.response.status == 400);
  CHECK(g.h.downstream.response.body == error);
}

TEST_CASE("models: the settings refuse malformed aliases and hidden lists") {
  GatewayFixture g;
  const SettingsSchema& schema = g.registry.settings_schema();
  CHECK(schema.convert_text("model_aliases", R"({"fast":"gemini-2.5-flash"})").ok());
  CHECK_FALSE(schema.convert_text("model_aliases", R"(["gemini-2.5-flash"])").ok());
  CHECK_FALSE(schema.convert_text("model_aliases", R"({"a b":"gemini-2.5-flash"})").ok());
  CHECK_FALSE(schema.convert_text("model_aliases", R"({"fast":"../x"})").ok());
  CHECK(schema.convert_text("model_aliases", R"({"claude-*haiku*":"gemini-2.5-flash"})").ok());
  CHECK_FALSE(schema.convert_text("model_aliases", R"({"fast":"gemini-*"})").ok());
  CHECK_FALSE(schema.convert_text("model_aliases", R"({"fast":3})").ok());
  CHECK(schema.convert_text("hidden_models", R"(["gemini-1.5-pro"])").ok());
  CHECK_FALSE(schema.convert_text("hidden_models", R"("gemini-1.5-pro")").ok());
  CHECK_FALSE(schema.convert_text("hidden_models", R"(["ok", 3])").ok());
}

TEST_CASE("models: '*' patterns map whole families; exact names first, then the first match") {
  GatewayFixture g;
  g.add_keys(1);
  auto snapshot = g.settings({{"model_aliases", R"({"claude-*haiku*":"gemini-2.5-flash",)"
                                                R"("claude-*":"gemini-2.5-pro",)"
                                                R"("claude-special":"gemini-2.0-flash"})"}});
  const std::pair<const char*, const char*> cases[] = {
      {"claude-3-5-haiku-20241022", "gemini-2.5-flash"},
      {"claude-haiku-4-5", "gemini-2.5-flash"},
      {"claude-sonnet-4-5", "gemini-2.5-pro"},
      {"claude-opus-4-1-20250805", "gemini-2.5-pro"},
      {"claude-special", "gemini-2.0-flash"},  // exact wins over the earlier pattern
      {"gemini-2.5-flash-lite", "gemini-2.5-flash-lite"},
  };
  for (auto [asked, sent] : cases) {
    CAPTURE(asked);
    g.transport->script(Answer::json(200, R"({"candidates":[]})"));
    run_as_client(g, std::string("/v1beta/models/") + asked + ":generateContent", snapshot);
    CHECK(g.transport->requests.back().url ==
          kUpstream + "/v1beta/models/" + sent + ":generateContent");
  }
  // The built-in default maps claude-* names without any operator setting.
  g.transport->script(Answer::json(200, R"({"candidates":[]})"));
  run_as_client(g, "/v1beta/models/claude-3-haiku:generateContent", g.settings());
  CHECK(g.transport->requests.back().url ==
        kUpstream + "/v1beta/models/gemini-2.5-flash:generateContent");
}

TEST_CASE("models: glob_match") {
  using gemgate::text::glob_match;
  CHECK(glob_match("claude-*", "claude-x"));
  CHECK(glob_match("*haiku*", "claude-3-haiku"));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK_FALSE(glob_match("claude-*", "gemini-2.5-pro"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match(std::string(60, '*') + "x", std::string(5000, 'a') + "x"));
}

TEST_CASE("models: the built-in claude-* patterns leave native lists byte for byte") {
  GatewayFixture g;
  g.add_keys(1);
  const std::string pretty =
      "{\n  \"models\": [\n    {\"name\": \"models/gemini-2.5-flash\"}\n  ]\n}\n";
  g.transport->script(Answer::json(200, pretty));
  g.run(models_chain(g), "/v1beta/models", g.settings(), [](http::Request& r) {
    r.method = "GET";
    r.body.clear();
  });
  CHECK(g.h.downstream.response.body == pretty);
}
