// Admin API: live settings — every setting with value, default and description; PATCH validates
// each field and applies the whole change atomically (stored in one transaction, then published
// as a new snapshot that the next request picks up).
#include <map>

#include "admin/admin_filter.h"
#include "admin/api.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/text.h"

namespace gemgate::admin {

namespace {

const char* type_name(SettingType t) {
  switch (t) {
    case SettingType::kBool:
      return "bool";
    case SettingType::kInt:
      return "int";
    case SettingType::kString:
      return "string";
    case SettingType::kSecret:
      return "secret";
    case SettingType::kJson:
      return "json";
  }
  return "string";
}

}  // namespace

std::string settings_json(const Settings& settings) {
  JsonOut out;
  out.begin_object().key("items").begin_array();
  for (const SettingSpec& spec : settings.schema()->all()) {
    bool overridden = settings.is_overridden(spec.name);
    out.begin_object().field("name", spec.name).field("type", type_name(spec.type));
    if (spec.type == SettingType::kSecret) {
      bool set = !settings.get_string(spec.name).empty();
      out.key("value").begin_object().field("set", set).end_object();
      out.key("default").null();
    } else {
      auto it = settings.overrides().find(spec.name);
      if (it != settings.overrides().end() && spec.masked_url) {
        out.field("value", text::mask_url_password(settings.get_string(spec.name)));
      } else if (it != settings.overrides().end()) {
        out.key("value").raw(setting_to_json(it->second));
      } else {
        out.key("value").raw(spec.default_json);
      }
      out.key("default").raw(spec.default_json);
    }
    out.field("description", spec.description);
    if (spec.type == SettingType::kInt) out.field("min", spec.min).field("max", spec.max);
    out.field("overridden", overridden).end_object();
  }
  out.end_array().end_object();
  return out.take();
}

void handle_settings_get(ApiCall& call) {
  send_reply(call.x, Reply::json(settings_json(*call.s.settings->load())));
}

void handle_settings_patch(ApiCall& call) {
  const rapidjson::Value& body = call.body;
  if (!body.IsObject() || body.MemberCount() == 0) {
    return send_error(call.x, 400,
                      "send an object of setting names to new values (null = default)");
  }
  auto current = call.s.settings->load();
  const SettingsSchema& schema = *current->schema();
  std::map<std::string, std::optional<SettingValue>> changes;  // nullopt = back to default
  bool token_changed = false;
  for (const auto& m : body.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    const SettingSpec* spec = schema.find(name);
    if (!spec) return send_error(call.x, 400, name + ": unknown setting", name);
    if (m.value.IsNull()) {
      if (spec->type == SettingType::kSecret && name == kAdminToken.name()) {
        return send_error(
            call.x, 400,
            "admin_token: cannot be removed (that would lock everyone out); set a new one", name);
      }
      changes[name] = std::nullopt;
      token_changed = token_changed || spec->type == SettingType::kSecret;
      continue;
    }
    auto value = schema.convert(name, m.value);
    if (!value.ok()) return send_error(call.x, 400, value.error().message, name);
    if (name == kAdminToken.name() && std::get<std::string>(*value).empty()) {
      return send_error(call.x, 400, "admin_token: cannot be empty; set a new one", name);
    }
    if (spec->masked_url) {
      const std::string& sent = std::get<std::string>(*value);
      const std::string stored = current->get_string(name);
      // The masked form GET showed, sent back unchanged by an editor: keep the real value.
      if (sent != stored && sent == text::mask_url_password(stored)) continue;
      log::register_secret(sent);
      log::register_secret(text::url_password(sent));
    }
    if (spec->type == SettingType::kSecret) {
      // Secrets are stored as their SHA-256 only; the value itself is never kept. The log
      // redactor learns it, so a request that later carries it in a path cannot log it.
      log::register_secret(std::get<std::string>(*value));
      value = SettingValue(crypto::sha256_hex(std::get<std::string>(*value)));
      token_changed = true;
    }
    changes[name] = std::move(*value);
  }
  auto published = call.s.settings;
  run_storage_job(call, [changes, published, token_changed](storage::Store& store) {
    // Jobs run one at a time, so reading the current snapshot here cannot race another PATCH.
    auto now = published->load();
    auto overrides = now->overrides();
    storage::SettingsBatch batch;
    batch.updated_at = now_unix_ms();
    for (const auto& [name, value] : changes) {
      if (value) {
        batch.set[name] = setting_to_json(*value);
        overrides[name] = *value;
      } else {
        batch.reset.push_back(name);
        overrides.erase(name);
      }
    }
    auto saved = store.save_settings(batch);
    if (!saved.ok()) return Reply::error(503, "storage: " + saved.error().message);
    published->publish(
        std::make_shared<const Settings>(now->shared_schema(), std::move(overrides)));
    if (token_changed) {
      auto ended = store.delete_all_sessions();
      log::info("admin: the admin token changed; ended " + std::to_string(ended.ok() ? *ended : 0) +
                " session(s)");
    }
    std::string names;
    for (const auto& [name, value] : changes) names += (names.empty() ? "" : ", ") + name;
    log::info("admin: settings changed: " + names);
    return Reply::json(settings_json(*published->load()));
  });
}

}  // namespace gemgate::admin
