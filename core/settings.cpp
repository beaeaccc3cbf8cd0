#include "core/settings.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/json.h"

namespace gemgate {

namespace {

std::string json_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Result<void> SettingsSchema::declare(SettingSpec spec) {
  if (find(spec.name)) return Error::invalid("setting '" + spec.name + "' is declared twice");
  specs_.push_back(std::move(spec));
  auto def = convert_text(specs_.back().name, specs_.back().default_json);
  if (!def.ok()) {
    std::string msg = "default of " + def.error().message;
    specs_.pop_back();
    return Error::invalid(msg);
  }
  return {};
}

Result<void> SettingsSchema::declare_all(std::vector<SettingSpec> specs) {
  for (SettingSpec& spec : specs) {
    if (auto r = declare(std::move(spec)); !r.ok()) return r;
  }
  return {};
}

const SettingSpec* SettingsSchema::find(std::string_view name) const {
  for (const SettingSpec& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<void> SettingsSchema::set_default(std::string_view name, std::string default_json) {
  auto checked = convert_text(name, default_json);
  if (!checked.ok()) return checked.error();
  for (SettingSpec& s : specs_) {
    if (s.name == name) s.default_json = std::move(default_json);
  }
  return {};
}

Result<SettingValue> SettingsSchema::convert(std::string_view name,
                                             const rapidjson::Value& v) const {
  const SettingSpec* spec = find(name);
  std::string field(name);
  if (!spec) return Error::invalid(field + ": unknown setting");
  auto fail = [&](const std::string& why) { return Error::invalid(field + ": " + why); };
  switch (spec->type) {
    case SettingType::kBool:
      if (!v.IsBool()) return fail("must be true or false");
      return SettingValue(v.GetBool());
    case SettingType::kInt: {
      if (!v.IsInt64()) return fail("must be a whole number");
      int64_t n = v.GetInt64();
      if (n < spec->min || n > spec->max) {
        return fail("must be between " + std::to_string(spec->min) + " and " +
                    std::to_string(spec->max));
      }
      return SettingValue(n);
    }
    case SettingType::kString:
    case SettingType::kSecret: {
      if (!v.IsString()) return fail("must be a string");
      if (spec->check) {
        std::string why = spec->check(v);
        if (!why.empty()) return fail(why);
      }
      return SettingValue(std::string(v.GetString(), v.GetStringLength()));
    }
    case SettingType::kJson: {
      if (spec->check) {
        std::string why = spec->check(v);
        if (!why.empty()) return fail(why);
      }
      auto doc = std::make_shared<rapidjson::Document>();
      doc->CopyFrom(v, doc->GetAllocator());
      return SettingValue(std::shared_ptr<const rapidjson::Document>(std::move(doc)));
    }
  }
  return fail("unsupported type");
}

Result<SettingValue> SettingsSchema::convert_text(std::string_view name,
                                                  std::string_view json) const {
  rapidjson::Document doc;
  if (!json::parse(doc, json)) return Error::invalid(std::string(name) + ": not valid JSON");
  return convert(name, doc);
}

std::string setting_to_json(const SettingValue& value) {
  if (auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (auto* s = std::get_if<std::string>(&value)) {
    rapidjson::Value v(s->c_str(), static_cast<rapidjson::SizeType>(s->size()));
    return json_text(v);
  }
  auto& doc = std::get<std::shared_ptr<const rapidjson::Document>>(value);
  return doc ? json_text(*doc) : "null";
}

Settings::Settings(std::shared_ptr<const SettingsSchema> schema,
                   std::unordered_map<std::string, SettingValue> overrides)
    : schema_(std::move(schema)), overrides_(std::move(overrides)) {
  for (const SettingSpec& spec : schema_->all()) {
    auto it = overrides_.find(spec.name);
    if (it != overrides_.end()) {
      values_.push_back({setting_name_hash(spec.name), spec.name, it->second});
    } else {
      auto def = schema_->convert_text(spec.name, spec.default_json);
      if (def.ok())
        values_.push_back({setting_name_hash(spec.name), spec.name, std::move(def).value()});
    }
  }
  size_t size = 8;
  while (size < 2 * values_.size()) size *= 2;
  table_.assign(size, -1);
  for (size_t i = 0; i < values_.size(); ++i) {
    size_t at = values_[i].hash & (size - 1);
    while (table_[at] >= 0) at = (at + 1) & (size - 1);
    table_[at] = static_cast<int32_t>(i);
  }
}

const SettingValue* Settings::find(std::string_view name, uint64_t hash) const {
  if (table_.empty()) return nullptr;  // a default-constructed snapshot
  const size_t mask = table_.size() - 1;
  for (size_t at = hash & mask;; at = (at + 1) & mask) {
    int32_t i = table_[at];
    if (i < 0) return nullptr;
    const Entry& e = values_[static_cast<size_t>(i)];
    if (e.hash == hash && e.name == name) return &e.value;
  }
}

bool Settings::as_bool(const SettingValue* v) {
  const bool* b = v ? std::get_if<bool>(v) : nullptr;
  return b ? *b : false;
}

int64_t Settings::as_int(const SettingValue* v) {
  const int64_t* i = v ? std::get_if<int64_t>(v) : nullptr;
  return i ? *i : 0;
}

const std::string& Settings::as_string(const SettingValue* v) {
  static const std::string kEmpty;
  const std::string* s = v ? std::get_if<std::string>(v) : nullptr;
  return s ? *s : kEmpty;
}

const rapidjson::Value* Settings::as_json(const SettingValue* v) {
  auto* d = v ? std::get_if<std::shared_ptr<const rapidjson::Document>>(v) : nullptr;
  return d && *d ? static_cast<const rapidjson::Value*>(d->get()) : nullptr;
}

bool Settings::get_bool(std::string_view name) const {
  return as_bool(find(name));
}

int64_t Settings::get_int(std::string_view name) const {
  return as_int(find(name));
}

const std::string& Settings::get_string(std::string_view name) const {
  return as_string(find(name));
}

const rapidjson::Value* Settings::get_json(std::string_view name) const {
  return as_json(find(name));
}

bool Settings::is_overridden(std::string_view name) const {
  return overrides_.count(std::string(name)) > 0;
}

}  // namespace gemgate
