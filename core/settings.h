// Dynamic settings: named, typed, validated values that operators change while gemgate runs
// (retry counts, cooldowns, timeouts, ...). Each owner (a filter, admin, storage) declares its
// settings in a SettingsSchema; values live in an immutable Settings snapshot that every request
// captures when it starts, so a change applies to the next request and never to half of one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <rapidjson/document.h>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/result.h"

namespace gemgate {

enum class SettingType { kBool, kInt, kString, kSecret, kJson };

struct SettingSpec {
  std::string name;
  SettingType type = SettingType::kString;
  std::string description;
  std::string default_json;  // JSON text of the default, e.g. "3", "\"gemini-2.5-flash-lite\""
  int64_t min = INT64_MIN;   // kInt bounds, inclusive
  int64_t max = INT64_MAX;
  // Extra check for kString/kJson values; returns "" when fine, else a message for the user.
  std::function<std::string(const rapidjson::Value&)> check;
  // A kString URL whose password is write-only (a proxy URL): reads show it as "user:***@", and
  // writing back that masked form keeps the stored value.
  bool masked_url = false;
};

using SettingValue =
    std::variant<bool, int64_t, std::string, std::shared_ptr<const rapidjson::Document>>;

// Value kinds with no C++ type of their own: a write-only string (the admin API stores its
// SHA-256 and reads give the hash), and any JSON value its check accepts.
struct SecretText {};
struct JsonValue {};

// What each kind is declared as and what reading it gives.
template <typename T>
struct SettingKind;
template <>
struct SettingKind<bool> {
  static constexpr SettingType kType = SettingType::kBool;
  using Read = bool;
};
template <>
struct SettingKind<int64_t> {
  static constexpr SettingType kType = SettingType::kInt;
  using Read = int64_t;
};
template <>
struct SettingKind<std::string> {
  static constexpr SettingType kType = SettingType::kString;
  using Read = const std::string&;
};
template <>
struct SettingKind<SecretText> {
  static constexpr SettingType kType = SettingType::kSecret;
  using Read = const std::string&;
};
template <>
struct SettingKind<JsonValue> {
  static constexpr SettingType kType = SettingType::kJson;
  using Read = const rapidjson::Value*;  // nullptr only when the setting is not declared
};

// Everything about a setting but its name and type, written with designated initializers:
//   {.description = "...", .default_json = "3", .min = 1, .max = 20}
struct SettingInfo {
  std::string description = {};
  std::string default_json = {};  // JSON text of the default
  int64_t min = INT64_MIN;        // kInt bounds, inclusive
  int64_t max = INT64_MAX;
  std::function<std::string(const rapidjson::Value&)> check = nullptr;  // as SettingSpec::check
  bool masked_url = false;  // as SettingSpec::masked_url
};

// The hash Settings files a setting under (64-bit FNV-1a of its name): constexpr, so a handle
// carries it from compile time.
constexpr uint64_t setting_name_hash(std::string_view name) {
  uint64_t h = 1469598103934665603ull;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Setting<T>: the typed handle of one setting. Its owner exports it from its header as
//   inline constexpr Setting<int64_t> kMaxRetries{"max_retries"};
// declares it once at registration (schema.declare_all({kMaxRetries.with({...})})), and every
// reader writes settings.get(kMaxRetries): the name is spelled once, the type comes with it, and
// a reader whose owner is gone no longer builds.
template <typename T>
class Setting {
 public:
  using Read = typename SettingKind<T>::Read;
  static constexpr SettingType kType = SettingKind<T>::kType;

  explicit constexpr Setting(std::string_view name) : name_(name), hash_(setting_name_hash(name)) {}
  constexpr std::string_view name() const { return name_; }
  // setting_name_hash(name()), computed when the handle is compiled: a read hashes nothing.
  constexpr uint64_t hash() const { return hash_; }
  // The schema entry of this setting: its name and type with `info`.
  SettingSpec with(SettingInfo info) const {
    return SettingSpec{std::string(name_),           kType,          std::move(info.description),
                       std::move(info.default_json), info.min,       info.max,
                       std::move(info.check),        info.masked_url};
  }

 private:
  std::string_view name_;
  uint64_t hash_;
};

class SettingsSchema {
 public:
  // Adds a setting. Returns an error for a duplicate name or a default that fails validation.
  Result<void> declare(SettingSpec spec);
  // Adds each of `specs` in order (the admin API lists settings in declaration order); stops at
  // the first error.
  Result<void> declare_all(std::vector<SettingSpec> specs);
  const SettingSpec* find(std::string_view name) const;
  // Replaces the default of `name` (e.g. with the value from the config file) after validating
  // it. The error message names the setting.
  Result<void> set_default(std::string_view name, std::string default_json);
  const std::vector<SettingSpec>& all() const { return specs_; }

  // Validates `value` for setting `name` and converts it. The error message starts with the
  // setting name, e.g. "max_retries: must be between 1 and 10".
  Result<SettingValue> convert(std::string_view name, const rapidjson::Value& value) const;
  // Same, from JSON text (as stored).
  Result<SettingValue> convert_text(std::string_view name, std::string_view json) const;

 private:
  std::vector<SettingSpec> specs_;
};

// Returns the JSON text of a value (as stored in the database and shown by the admin API).
std::string setting_to_json(const SettingValue& value);

// Settings: one immutable snapshot. Values fall back to the declared default. Code reads a
// setting through its owner's handle, get(kHandle); the by-name getters serve what walks the
// schema (the admin API's list, tests). Asking by name for an undeclared setting or the wrong
// type is a programming error and yields a zero value; a handle always has the right type, and
// an undeclared one (its owner not registered) also reads as zero.
class Settings {
 public:
  Settings() = default;
  // Builds a snapshot of every declared setting: `overrides` where given, defaults elsewhere.
  Settings(std::shared_ptr<const SettingsSchema> schema,
           std::unordered_map<std::string, SettingValue> overrides);

  template <typename T>
  typename Setting<T>::Read get(const Setting<T>& setting) const {
    const SettingValue* v = find(setting.name(), setting.hash());
    if constexpr (std::is_same_v<T, bool>) {
      return as_bool(v);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      return as_int(v);
    } else if constexpr (std::is_same_v<T, JsonValue>) {
      return as_json(v);
    } else {
      return as_string(v);
    }
  }

  bool get_bool(std::string_view name) const;
  int64_t get_int(std::string_view name) const;
  const std::string& get_string(std::string_view name) const;
  // Returns the parsed JSON value, or nullptr.
  const rapidjson::Value* get_json(std::string_view name) const;
  // True when the value comes from an override rather than the default.
  bool is_overridden(std::string_view name) const;

  const SettingsSchema* schema() const { return schema_.get(); }
  const std::shared_ptr<const SettingsSchema>& shared_schema() const { return schema_; }
  const std::unordered_map<std::string, SettingValue>& overrides() const { return overrides_; }

 private:
  // The value of setting `name` whose setting_name_hash is `hash`, or nullptr.
  const SettingValue* find(std::string_view name, uint64_t hash) const;
  const SettingValue* find(std::string_view name) const {
    return find(name, setting_name_hash(name));
  }
  // The typed reads of a value; a missing value or another type reads as zero.
  static bool as_bool(const SettingValue* v);
  static int64_t as_int(const SettingValue* v);
  static const std::string& as_string(const SettingValue* v);
  static const rapidjson::Value* as_json(const SettingValue* v);

  std::shared_ptr<const SettingsSchema> schema_;
  // Every declared setting's value, and an open-addressing table over them keyed by the name's
  // hash (a power of two, at most half full; -1 = empty): a read through a handle is one
  // probe or two and a name compare, with no hashing at run time (tens per request).
  struct Entry {
    uint64_t hash;
    std::string name;
    SettingValue value;
  };
  std::vector<Entry> values_;
  std::vector<int32_t> table_;
  std::unordered_map<std::string, SettingValue> overrides_;
};

}  // namespace gemgate
