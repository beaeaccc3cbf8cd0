// Fuzz target settings_json: bytes as a JSON setting value (as the admin API and the settings
// table hand it over) → SettingsSchema::convert_text for every setting gemgate declares (the
// registry of conf::register_everything).
//
// Checks: a converted value has the declared type (and bounds); it survives the round trip
// through setting_to_json unchanged; set_default accepts exactly what convert_text accepts; a
// Settings snapshot built with the new defaults returns them; unknown names are refused.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "conf/gateway.h"
#include "core/registry.h"
#include "core/settings.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using gemgate::SettingType;
using gemgate::SettingValue;

const gemgate::SettingsSchema& schema() {
  static const gemgate::SettingsSchema* s = [] {
    static gemgate::Registry registry;
    FUZZ_CHECK(gemgate::conf::register_everything(registry).ok());
    FUZZ_CHECK(!registry.settings_schema().all().empty());
    return &registry.settings_schema();
  }();
  return *s;
}

void check_type(const gemgate::SettingSpec& spec, const SettingValue& v) {
  switch (spec.type) {
    case SettingType::kBool:
      FUZZ_CHECK(std::holds_alternative<bool>(v));
      break;
    case SettingType::kInt:
      FUZZ_CHECK(std::holds_alternative<int64_t>(v));
      FUZZ_CHECK(std::get<int64_t>(v) >= spec.min && std::get<int64_t>(v) <= spec.max);
      break;
    case SettingType::kString:
    case SettingType::kSecret:
      FUZZ_CHECK(std::holds_alternative<std::string>(v));
      break;
    case SettingType::kJson:
      FUZZ_CHECK(std::holds_alternative<std::shared_ptr<const rapidjson::Document>>(v));
      FUZZ_CHECK(std::get<std::shared_ptr<const rapidjson::Document>>(v) != nullptr);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  const gemgate::SettingsSchema& base = schema();
  auto copy = std::make_shared<gemgate::SettingsSchema>(base);
  std::unordered_map<std::string, std::string> accepted;  // name → canonical JSON
  for (const gemgate::SettingSpec& spec : base.all()) {
    auto v = base.convert_text(spec.name, json);
    auto d = copy->set_default(spec.name, std::string(json));
    FUZZ_CHECK(v.ok() == d.ok());
    if (!v.ok()) {
      FUZZ_CHECK(v.error().message.starts_with(spec.name));  // the message names the setting
      continue;
    }
    check_type(spec, v.value());
    std::string canonical = gemgate::setting_to_json(v.value());
    auto again = base.convert_text(spec.name, canonical);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(gemgate::setting_to_json(again.value()) == canonical);
    accepted[spec.name] = canonical;
  }
  FUZZ_CHECK(!base.convert_text("no.such.setting", json).ok());
  // The snapshot must serve the new defaults.
  gemgate::Settings settings(copy, {});
  for (const auto& [name, canonical] : accepted) {
    const gemgate::SettingSpec* spec = copy->find(name);
    FUZZ_CHECK(spec != nullptr);
    switch (spec->type) {
      case SettingType::kBool:
        FUZZ_CHECK(gemgate::setting_to_json(settings.get_bool(name)) == canonical);
        break;
      case SettingType::kInt:
        FUZZ_CHECK(gemgate::setting_to_json(settings.get_int(name)) == canonical);
        break;
      case SettingType::kString:
      case SettingType::kSecret:
        FUZZ_CHECK(gemgate::setting_to_json(settings.get_string(name)) == canonical);
        break;
      case SettingType::kJson:
        FUZZ_CHECK(settings.get_json(name) != nullptr);
        break;
    }
  }
  return 0;
}
