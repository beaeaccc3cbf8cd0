// Dynamic settings: declaring (duplicates and bad defaults refused), converting JSON with type,
// bounds and check functions, snapshots built from defaults and overrides, set_default.
#include "core/settings.h"

#include <doctest/doctest.h>

using namespace gemgate;

namespace {

SettingSpec int_spec(std::string name, std::string def, int64_t min, int64_t max) {
  SettingSpec s;
  s.name = std::move(name);
  s.type = SettingType::kInt;
  s.default_json = std::move(def);
  s.min = min;
  s.max = max;
  return s;
}

std::shared_ptr<SettingsSchema> schema() {
  auto s = std::make_shared<SettingsSchema>();
  REQUIRE(s->declare(int_spec("retries", "3", 1, 10)).ok());
  REQUIRE(s->declare({"verbose", SettingType::kBool, "", "false", 0, 0, {}}).ok());
  REQUIRE(s->declare({"model", SettingType::kString, "", "\"flash\"", 0, 0,
                      [](const rapidjson::Value& v) -> std::string {
                        return v.GetStringLength() == 0 ? "must not be empty" : "";
                      }})
              .ok());
  REQUIRE(s->declare({"token", SettingType::kSecret, "", "\"\"", 0, 0, {}}).ok());
  REQUIRE(s->declare({"headers", SettingType::kJson, "", "{}", 0, 0,
                      [](const rapidjson::Value& v) -> std::string {
                        return v.IsObject() ? "" : "must be an object";
                      }})
              .ok());
  return s;
}

}  // namespace

TEST_CASE("declare refuses a duplicate name and a default that fails its own rules") {
  auto s = schema();
  auto dup = s->declare(int_spec("retries", "1", 0, 5));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message == "setting 'retries' is declared twice");
  auto out_of_range = s->declare(int_spec("other", "50", 0, 5));
  REQUIRE_FALSE(out_of_range.ok());
  CHECK(out_of_range.error().message == "default of other: must be between 0 and 5");
  CHECK(s->find("other") == nullptr);  // not half-declared
  CHECK_FALSE(s->declare(int_spec("broken", "{", 0, 5)).ok());
  CHECK(s->all().size() == 5);
}

TEST_CASE("convert checks type, bounds and check functions, naming the setting") {
  auto s = schema();
  auto ok = s->convert_text("retries", "4");
  REQUIRE(ok.ok());
  CHECK(std::get<int64_t>(*ok) == 4);
  CHECK(s->convert_text("retries", "0").error().message == "retries: must be between 1 and 10");
  CHECK(s->convert_text("retries", "11").error().message == "retries: must be between 1 and 10");
  CHECK(s->convert_text("retries", "2.5").error().message == "retries: must be a whole number");
  CHECK(s->convert_text("retries", "\"3\"").error().message == "retries: must be a whole number");
  CHECK(s->convert_text("verbose", "1").error().message == "verbose: must be true or false");
  CHECK(std::get<bool>(*s->convert_text("verbose", "true")));
  CHECK(s->convert_text("model", "3").error().message == "model: must be a string");
  CHECK(s->convert_text("model", "\"\"").error().message == "model: must not be empty");
  CHECK(std::get<std::string>(*s->convert_text("model", "\"pro\"")) == "pro");
  CHECK(s->convert_text("headers", "[1]").error().message == "headers: must be an object");
  CHECK(s->convert_text("headers", "{\"a\":").error().message == "headers: not valid JSON");
  CHECK(s->convert_text("nope", "1").error().message == "nope: unknown setting");
}

TEST_CASE("a snapshot holds defaults, overrides where given, and says which are overridden") {
  auto s = schema();
  std::unordered_map<std::string, SettingValue> overrides;
  overrides.emplace("retries", *s->convert_text("retries", "7"));
  overrides.emplace("headers", *s->convert_text("headers", "{\"x-a\":\"1\"}"));
  Settings snap(s, overrides);
  CHECK(snap.get_int("retries") == 7);
  CHECK(snap.is_overridden("retries"));
  CHECK_FALSE(snap.get_bool("verbose"));
  CHECK_FALSE(snap.is_overridden("verbose"));
  CHECK(snap.get_string("model") == "flash");
  CHECK(snap.get_string("token").empty());
  const rapidjson::Value* h = snap.get_json("headers");
  REQUIRE(h);
  CHECK(std::string((*h)["x-a"].GetString()) == "1");
  // Unknown names and wrong types are programming errors: zero values, no crash.
  CHECK(snap.get_int("unknown") == 0);
  CHECK(snap.get_int("model") == 0);
  CHECK(snap.get_string("retries").empty());
  CHECK(snap.get_json("retries") == nullptr);
  CHECK(Settings().get_int("retries") == 0);
}

TEST_CASE("a snapshot keeps its values when the schema's defaults change later") {
  auto s = schema();
  Settings before(s, {});
  REQUIRE(s->set_default("retries", "5").ok());
  Settings after(s, {});
  CHECK(before.get_int("retries") == 3);
  CHECK(after.get_int("retries") == 5);
}

TEST_CASE("set_default validates and names the setting") {
  auto s = schema();
  auto bad = s->set_default("retries", "99");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "retries: must be between 1 and 10");
  CHECK(s->find("retries")->default_json == "3");
  CHECK_FALSE(s->set_default("unknown", "1").ok());
  CHECK(s->set_default("model", "\"pro\"").ok());
  CHECK(Settings(s, {}).get_string("model") == "pro");
}

TEST_CASE("setting_to_json writes each kind back as JSON text") {
  auto s = schema();
  CHECK(setting_to_json(SettingValue(true)) == "true");
  CHECK(setting_to_json(SettingValue(int64_t{-4})) == "-4");
  CHECK(setting_to_json(SettingValue(std::string("a\"b"))) == "\"a\\\"b\"");
  CHECK(setting_to_json(*s->convert_text("headers", "{\"k\": [1, 2]}")) == "{\"k\":[1,2]}");
  CHECK(setting_to_json(SettingValue(std::shared_ptr<const rapidjson::Document>())) == "null");
}

namespace {
constexpr Setting<int64_t> kTries{"tries"};
constexpr Setting<bool> kLoud{"loud"};
constexpr Setting<std::string> kFlavour{"flavour"};
constexpr Setting<SecretText> kPassword{"password"};
constexpr Setting<JsonValue> kExtra{"extra"};
}  // namespace

TEST_CASE("a handle declares its setting with its own type and reads it back typed") {
  auto s = std::make_shared<SettingsSchema>();
  REQUIRE(s->declare_all({
                             kTries.with({.description = "d", .default_json = "2", .max = 9}),
                             kLoud.with({.default_json = "true"}),
                             kFlavour.with({.default_json = "\"plain\""}),
                             kPassword.with({.default_json = "\"\""}),
                             kExtra.with({.default_json = "[1]"}),
                         })
              .ok());
  REQUIRE(s->find("tries"));
  CHECK(s->find("tries")->type == SettingType::kInt);
  CHECK(s->find("password")->type == SettingType::kSecret);
  CHECK(s->find("extra")->type == SettingType::kJson);
  CHECK(s->convert_text("tries", "10").error().message ==
        "tries: must be between -9223372036854775808 and 9");
  Settings snap(s, {{"tries", SettingValue(int64_t{7})}});
  CHECK(snap.get(kTries) == 7);
  CHECK(snap.get(kLoud));
  CHECK(snap.get(kFlavour) == "plain");
  CHECK(snap.get(kPassword).empty());
  REQUIRE(snap.get(kExtra));
  CHECK(snap.get(kExtra)->IsArray());
  // declare_all stops at the first bad entry and reports it.
  CHECK(s->declare_all({kTries.with({.default_json = "1"})}).error().message ==
        "setting 'tries' is declared twice");
  // A handle whose owner never declared it reads as the zero value, as by name.
  CHECK(Settings().get(kTries) == 0);
  CHECK(Settings().get(kExtra) == nullptr);
}

TEST_CASE("a snapshot of many settings finds each by handle and by name, and nothing else") {
  // Enough settings for the lookup table to grow and probe past collisions.
  auto s = std::make_shared<SettingsSchema>();
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) names.push_back("setting_" + std::to_string(i));
  std::vector<SettingSpec> specs;
  for (int i = 0; i < 200; ++i) {
    specs.push_back(Setting<int64_t>(names[i]).with({.default_json = std::to_string(i)}));
  }
  REQUIRE(s->declare_all(std::move(specs)).ok());
  Settings snap(s, {{"setting_150", SettingValue(int64_t{-5})}});
  for (int i = 0; i < 200; ++i) {
    CAPTURE(i);
    CHECK(snap.get(Setting<int64_t>(names[i])) == (i == 150 ? -5 : i));
    CHECK(snap.get_int(names[i]) == (i == 150 ? -5 : i));
  }
  // Undeclared names, a prefix of a declared one, and the wrong type read as zero values.
  CHECK(snap.get(Setting<int64_t>("setting_200")) == 0);
  CHECK(snap.get_int("setting_") == 0);
  CHECK(snap.get_int("") == 0);
  CHECK_FALSE(snap.get(Setting<bool>("setting_3")));
  CHECK(snap.get(Setting<std::string>("setting_3")).empty());
  static_assert(Setting<int64_t>("max_retries").hash() == setting_name_hash("max_retries"));
}
