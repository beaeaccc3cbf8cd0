// Admin API: client tokens — list (masked, with policy, usage and remaining quota), create (the
// full token shown once), change the label and policy, delete. Every change republishes the
// credential set, so it applies to the very next request.
#include <algorithm>
#include <optional>

#include "admin/admin_filter.h"
#include "admin/api.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/text.h"
#include "storage/validate.h"

namespace gemgate::admin {

namespace {

// A refused field: 400 naming it.
struct FieldError {
  std::string field;
  std::string message;
};

std::string masked_token(const storage::ClientToken& t) {
  if (t.suffix.empty()) return t.prefix + "…";
  return t.prefix + "…" + t.suffix;
}

std::string check_token_text(std::string_view token) {
  if (token.size() < 8 || token.size() > 256) return "a token must be 8 to 256 characters long";
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return "a token may only hold printable ASCII characters without spaces";
    }
  }
  return "";
}

// A limit field: a whole number >= 0, or null (= 0, no limit).
std::optional<FieldError> read_limit(const rapidjson::Value& v, const char* name, int64_t& out) {
  if (v.IsNull()) {
    out = 0;
    return std::nullopt;
  }
  if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > storage::kMaxTokenLimit) {
    return FieldError{name, std::string("'") + name +
                                "' must be a whole number from 0 to 1000000000000000 (0 or null = "
                                "no limit)"};
  }
  out = v.GetInt64();
  return std::nullopt;
}

// Applies the fields of `body` present in it to `label` and `policy` (a PATCH changes only
// what it names; a POST starts from the defaults). Unknown fields are refused, so a typo
// ("rmp") cannot silently leave a token unlimited.
std::optional<FieldError> read_token_fields(const rapidjson::Value& body, bool creating,
                                            std::string& label, storage::TokenPolicyRow& policy) {
  if (!body.IsObject()) return FieldError{"", "the body must be a JSON object"};
  for (const auto& m : body.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    const rapidjson::Value& v = m.value;
    if (name == "label") {
      if (v.IsNull()) {
        label.clear();
        continue;
      }
      if (!v.IsString()) return FieldError{"label", "'label' must be a string"};
      if (v.GetStringLength() > 100)
        return FieldError{"label", "'label' is longer than 100 characters"};
      label.assign(v.GetString(), v.GetStringLength());
    } else if (name == "token") {
      if (!creating)
        return FieldError{"token", "'token' cannot be changed; create a new token instead"};
    } else if (name == "models") {
      policy.models.clear();
      if (v.IsNull()) continue;
      if (!v.IsArray())
        return FieldError{"models", "'models' must be a list of model names or patterns"};
      for (const auto& item : v.GetArray()) {
        if (!item.IsString() || !storage::is_model_name(item.GetString(), true)) {
          return FieldError{"models",
                            "'models' entries must be model names or patterns (1 to 128 "
                            "characters of A-Z a-z 0-9 . _ - and *)"};
        }
        policy.models.emplace_back(item.GetString(), item.GetStringLength());
      }
      if (policy.models.size() > storage::kMaxTokenModels)
        return FieldError{"models", "'models' may list at most 100 names"};
    } else if (name == "rpm") {
      if (auto e = read_limit(v, "rpm", policy.rpm)) return e;
    } else if (name == "tpm") {
      if (auto e = read_limit(v, "tpm", policy.tpm)) return e;
    } else if (name == "daily_tokens") {
      if (auto e = read_limit(v, "daily_tokens", policy.daily_tokens)) return e;
    } else if (name == "monthly_tokens") {
      if (auto e = read_limit(v, "monthly_tokens", policy.monthly_tokens)) return e;
    } else if (name == "expires_at") {
      if (v.IsNull()) {
        policy.expires_at = 0;
        continue;
      }
      if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > storage::kMaxTokenLimit) {
        return FieldError{"expires_at",
                          "'expires_at' must be a Unix time in milliseconds (0 or null = never)"};
      }
      policy.expires_at = v.GetInt64();
    } else if (name == "key_group") {
      if (v.IsNull()) {
        policy.key_group.clear();
        continue;
      }
      if (!v.IsString()) return FieldError{"key_group", "'key_group' must be a string"};
      policy.key_group.assign(v.GetString(), v.GetStringLength());
    } else if (name == "enabled") {
      if (!v.IsBool()) return FieldError{"enabled", "'enabled' must be true or false"};
      policy.enabled = v.GetBool();
    } else {
      name = name.substr(0, 64);  // echoed back: keep a runaway name short
      return FieldError{std::string(name), "unknown field '" + std::string(name) +
                                               "' (expected label, token, models, rpm, tpm, "
                                               "daily_tokens, monthly_tokens, expires_at, "
                                               "key_group, enabled)"};
    }
  }
  if (auto problem = storage::token_policy_problem(policy)) {
    return FieldError{problem->field, problem->message};
  }
  return std::nullopt;
}

// `remaining` of one limit: what is left (never below 0), or null without a limit.
void remaining(JsonOut& out, std::string_view name, int64_t limit, int64_t used) {
  out.key(name);
  if (limit <= 0)
    out.null();
  else
    out.num(std::max<int64_t>(0, limit - used));
}

// One token as the API shows it: the masked token, its policy, usage and remaining quota;
// with `secret` (only when it was just created) the token itself as "token".
void write_token(JsonOut& out, const storage::ClientToken& t, const TokenMeter* meter, int64_t now,
                 std::string_view secret = {}) {
  const storage::TokenPolicyRow& p = t.policy;
  TokenMeter::Usage u = meter ? meter->usage(t.id, now) : TokenMeter::Usage{};
  out.begin_object()
      .field("id", t.id)
      .field("label", t.label)
      .field("masked", masked_token(t))
      .field("created_at", t.created_at)
      .field("last_used_at", t.last_used_at);
  out.key("models").begin_array();
  for (const std::string& m : p.models) out.str(m);
  out.end_array();
  out.field("rpm", p.rpm)
      .field("tpm", p.tpm)
      .field("daily_tokens", p.daily_tokens)
      .field("monthly_tokens", p.monthly_tokens)
      .field("expires_at", p.expires_at)
      .field("key_group", p.key_group)
      .field("enabled", p.enabled)
      .field("expired", p.expires_at > 0 && now >= p.expires_at);
  out.key("usage")
      .begin_object()
      .key("minute")
      .begin_object()
      .field("requests", u.minute_requests)
      .field("tokens", u.minute_tokens)
      .end_object()
      .key("today")
      .begin_object()
      .field("requests", u.day_requests)
      .field("tokens", u.day_tokens)
      .end_object()
      .key("month")
      .begin_object()
      .field("requests", u.month_requests)
      .field("tokens", u.month_tokens)
      .end_object()
      .end_object();
  out.key("remaining").begin_object();
  remaining(out, "rpm", p.rpm, u.minute_requests);
  remaining(out, "tpm", p.tpm, u.minute_tokens);
  remaining(out, "daily_tokens", p.daily_tokens, u.day_tokens);
  remaining(out, "monthly_tokens", p.monthly_tokens, u.month_tokens);
  out.end_object();
  if (!secret.empty()) out.field("token", secret);
  out.end_object();
}

}  // namespace

void handle_tokens_list(ApiCall& call) {
  auto meter = call.s.meter;
  run_storage_job(call, [meter](storage::Store& store) {
    auto tokens = store.list_tokens();
    if (!tokens.ok()) return Reply::error(503, "storage: " + tokens.error().message);
    const int64_t now = now_unix_ms();
    JsonOut out;
    out.begin_object().key("items").begin_array();
    for (const auto& t : *tokens) write_token(out, t, meter.get(), now);
    out.end_array().end_object();
    return Reply::json(out.take());
  });
}

void handle_tokens_create(ApiCall& call) {
  const rapidjson::Value& body = call.body;
  std::string label, token;
  storage::TokenPolicyRow policy;
  if (!body.IsNull()) {
    if (auto e = read_token_fields(body, true, label, policy))
      return send_error(call.x, 400, e->message, e->field);
  }
  if (auto it = body.IsObject() ? body.FindMember("token") : body.MemberEnd();
      body.IsObject() && it != body.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsString()) return send_error(call.x, 400, "'token' must be a string", "token");
    token.assign(it->value.GetString(), it->value.GetStringLength());
    if (std::string why = check_token_text(token); !why.empty())
      return send_error(call.x, 400, why, "token");
  } else {
    token = crypto::random_token("sk-gg-", 24);
  }
  log::register_secret(token);
  auto credentials = call.s.credentials;
  auto pool = call.s.pool;
  auto settings = call.s.settings;
  auto meter = call.s.meter;
  run_storage_job(
      call, [label, token, policy, credentials, pool, settings, meter](storage::Store& store) {
        // Checked here, on the storage thread, where key and token changes run one at a time: a
        // concurrent "add key X" cannot slip between the check and the insert.
        std::string hash = crypto::sha256_hex(token);
        if (pool->contains_secret(token)) {
          return Reply::error(400, "a pool key can never be used as a client token", "token");
        }
        if (crypto::constant_time_equals(hash, settings->load()->get(kAdminToken))) {
          return Reply::error(400, "the admin token can never be used as a client token", "token");
        }
        text::MaskParts parts = text::mask_parts(token);
        storage::NewClientToken t;
        t.label = label;
        t.token_sha256 = hash;
        t.prefix = parts.prefix;
        t.suffix = parts.suffix;
        t.created_at = now_unix_ms();
        t.policy = policy;
        auto id = store.add_token(t);
        if (!id.ok()) {
          if (id.error().code == ErrorCode::kAlreadyExists) {
            return Reply::error(409, "this token already exists", "token");
          }
          return Reply::error(503, "storage: " + id.error().message);
        }
        if (auto r = republish_credentials(store, *credentials); !r.ok()) {
          return Reply::error(503, "storage: " + r.error().message);
        }
        log::info("admin: created client token " + std::to_string(*id));
        storage::ClientToken shown;
        shown.id = *id;
        shown.label = label;
        shown.prefix = t.prefix;
        shown.suffix = t.suffix;
        shown.created_at = t.created_at;
        shown.policy = policy;
        JsonOut out;
        write_token(out, shown, meter.get(), now_unix_ms(), token);  // the one answer with it
        return Reply::json(out.take(), 201);
      });
}

void handle_token_update(ApiCall& call, int64_t id) {
  if (!call.body.IsObject())
    return send_error(call.x, 400, "the body must be a JSON object of the fields to change");
  // The fields are parsed here against a scratch policy (to answer 400 at once) and again on
  // the storage thread over the stored row, so a PATCH changes only what it names.
  auto body = std::make_shared<rapidjson::Document>();
  body->CopyFrom(call.body, body->GetAllocator());
  {
    std::string label;
    storage::TokenPolicyRow scratch;
    if (auto e = read_token_fields(*body, false, label, scratch))
      return send_error(call.x, 400, e->message, e->field);
  }
  auto credentials = call.s.credentials;
  auto meter = call.s.meter;
  run_storage_job(call, [id, body, credentials, meter](storage::Store& store) {
    auto tokens = store.list_tokens();
    if (!tokens.ok()) return Reply::error(503, "storage: " + tokens.error().message);
    auto it = std::find_if(tokens->begin(), tokens->end(),
                           [id](const storage::ClientToken& t) { return t.id == id; });
    if (it == tokens->end()) return Reply::error(404, "no token with id " + std::to_string(id));
    storage::ClientToken t = *it;
    if (auto e = read_token_fields(*body, false, t.label, t.policy))
      return Reply::error(400, e->message, e->field);
    auto updated = store.update_token(id, t.label, t.policy);
    if (!updated.ok()) return Reply::error(503, "storage: " + updated.error().message);
    if (!*updated) return Reply::error(404, "no token with id " + std::to_string(id));
    if (auto r = republish_credentials(store, *credentials); !r.ok()) {
      return Reply::error(503, "storage: " + r.error().message);
    }
    log::info("admin: changed client token " + std::to_string(id));
    JsonOut out;
    write_token(out, t, meter.get(), now_unix_ms());
    return Reply::json(out.take());
  });
}

void handle_token_delete(ApiCall& call, int64_t id) {
  auto credentials = call.s.credentials;
  run_storage_job(call, [id, credentials](storage::Store& store) {
    auto deleted = store.delete_token(id);
    if (!deleted.ok()) return Reply::error(503, "storage: " + deleted.error().message);
    if (!*deleted) return Reply::error(404, "no token with id " + std::to_string(id));
    if (auto r = republish_credentials(store, *credentials); !r.ok()) {
      return Reply::error(503, "storage: " + r.error().message);
    }
    log::info("admin: deleted client token " + std::to_string(id));
    return Reply::json("{\"deleted\":true}");
  });
}

}  // namespace gemgate::admin
