// Admin API: client tokens — list (masked), create (the full token shown once), delete. Every
// change republishes the credential set, so it applies to the very next request.
#include "admin/admin_filter.h"
#include "admin/api.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/text.h"

namespace gemgate::admin {

namespace {

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

}  // namespace

void handle_tokens_list(ApiCall& call) {
  run_storage_job(call, [](storage::Store& store) {
    auto tokens = store.list_tokens();
    if (!tokens.ok()) return Reply::error(503, "storage: " + tokens.error().message);
    JsonOut out;
    out.begin_object().key("items").begin_array();
    for (const auto& t : *tokens) {
      out.begin_object()
          .field("id", t.id)
          .field("label", t.label)
          .field("masked", masked_token(t))
          .field("created_at", t.created_at)
          .field("last_used_at", t.last_used_at)
          .end_object();
    }
    out.end_array().end_object();
    return Reply::json(out.take());
  });
}

void handle_tokens_create(ApiCall& call) {
  const rapidjson::Value& body = call.body;
  std::string label, token;
  if (auto it = body.FindMember("label"); it != body.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsString()) return send_error(call.x, 400, "'label' must be a string", "label");
    label.assign(it->value.GetString(), it->value.GetStringLength());
    if (label.size() > 100)
      return send_error(call.x, 400, "'label' is longer than 100 characters", "label");
  }
  if (auto it = body.FindMember("token"); it != body.MemberEnd() && !it->value.IsNull()) {
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
  run_storage_job(call, [label, token, credentials, pool, settings](storage::Store& store) {
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
    JsonOut out;
    out.begin_object()
        .field("id", *id)
        .field("label", label)
        .field("masked", t.suffix.empty() ? t.prefix + "…" : t.prefix + "…" + t.suffix)
        .field("token", token)
        .end_object();
    return Reply::json(out.take(), 201);
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
