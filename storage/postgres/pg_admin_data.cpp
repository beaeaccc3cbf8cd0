// PgStore: client tokens (stored as SHA-256 only), settings (name → JSON text) and browser admin
// sessions (SHA-256 of the session id). Changes notify "tokens", "settings" and "sessions".
#include <map>

#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"
#include "storage/postgres/pg_util.h"
#include "storage/validate.h"

namespace gemgate::storage {

using pg::arg;
using pg::Tx;

namespace {

constexpr const char* kTokenColumns =
    "id, label, token_sha256, prefix, suffix, created_at, last_used_at, models, rpm, tpm, "
    "daily_tokens, monthly_tokens, expires_at, key_group, enabled";

// The policy columns (models .. enabled) as parameters, in that order.
void add_policy(pg::Params& params, const TokenPolicyRow& p) {
  params.push_back(arg(join_token_models(p.models)));
  params.push_back(arg(p.rpm));
  params.push_back(arg(p.tpm));
  params.push_back(arg(p.daily_tokens));
  params.push_back(arg(p.monthly_tokens));
  params.push_back(arg(p.expires_at));
  params.push_back(arg(p.key_group));
  params.push_back(arg(p.enabled));
}

ClientToken read_token(const pg::Rows& rows, int i) {
  ClientToken t;
  t.id = rows.i64(i, 0);
  t.label = rows.text(i, 1);
  t.token_sha256 = rows.text(i, 2);
  t.prefix = rows.text(i, 3);
  t.suffix = rows.text(i, 4);
  t.created_at = rows.i64(i, 5);
  t.last_used_at = rows.i64(i, 6);
  t.policy.models = split_token_models(rows.text(i, 7));
  t.policy.rpm = rows.i64(i, 8);
  t.policy.tpm = rows.i64(i, 9);
  t.policy.daily_tokens = rows.i64(i, 10);
  t.policy.monthly_tokens = rows.i64(i, 11);
  t.policy.expires_at = rows.i64(i, 12);
  t.policy.key_group = rows.text(i, 13);
  t.policy.enabled = rows.boolean(i, 14);
  return t;
}

}  // namespace

// ---- Client tokens -----------------------------------------------------------------------------

Result<std::int64_t> PgStore::add_token(const NewClientToken& token) {
  if (!is_sha256_hex(token.token_sha256)) {
    return Error::invalid("token hash must be 64 lowercase hex characters (SHA-256)");
  }
  if (token.label.size() > kMaxLabelLength) return Error::invalid("token label is too long");
  if (token.prefix.size() > kMaxDisplayAffix || token.suffix.size() > kMaxDisplayAffix) {
    return Error::invalid("token display prefix/suffix is too long");
  }
  if (auto problem = token_policy_problem(token.policy)) return Error::invalid(problem->message);
  pg::Params params = {arg(token.label), arg(token.token_sha256), arg(token.prefix),
                       arg(token.suffix), arg(token.created_at)};
  add_policy(params, token.policy);
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_LET(ins, db_->exec("INSERT INTO client_tokens (label, token_sha256, prefix, suffix, "
                        "created_at, models, rpm, tpm, daily_tokens, monthly_tokens, expires_at, "
                        "key_group, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                        "$11, $12, $13) RETURNING id",
                        params));
  // Adding a token deliberately (the admin API) lifts an earlier deletion record.
  PG_TRY(db_->exec("DELETE FROM deleted_secrets WHERE kind = 'token' AND digest = $1",
                   {arg(token.token_sha256)}));
  PG_TRY(notify(ChangeTopic::kTokens));
  PG_TRY(tx.commit());
  return ins.i64(0, 0);
}

Result<std::vector<ClientToken>> PgStore::list_tokens() {
  PG_LET(rows,
         db_->exec(std::string("SELECT ") + kTokenColumns + " FROM client_tokens ORDER BY id"));
  std::vector<ClientToken> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_token(rows, i));
  return out;
}

Result<bool> PgStore::delete_token(std::int64_t id) {
  Tx tx(*db_);
  PG_TRY(tx.begin());
  // The hash is remembered in the same transaction, so ALLOWED_TOKENS cannot re-add it.
  PG_TRY(
      db_->exec("INSERT INTO deleted_secrets (kind, digest, deleted_at) "
                "SELECT 'token', token_sha256, $1 FROM client_tokens WHERE id = $2 "
                "ON CONFLICT (kind, digest) DO UPDATE SET deleted_at = excluded.deleted_at",
                {arg(pg::wall_clock_ms()), arg(id)}));
  PG_LET(del, db_->exec("DELETE FROM client_tokens WHERE id = $1", {arg(id)}));
  PG_TRY(db_->exec("DELETE FROM token_usage_daily WHERE token_id = $1", {arg(id)}));
  if (del.affected() > 0) PG_TRY(notify(ChangeTopic::kTokens));
  PG_TRY(tx.commit());
  return del.affected() > 0;
}

Result<bool> PgStore::token_was_deleted(std::string_view token_sha256) {
  PG_LET(rows, db_->exec("SELECT 1 FROM deleted_secrets WHERE kind = 'token' AND digest = $1",
                         {arg(token_sha256)}));
  return rows.size() > 0;
}

Result<void> PgStore::touch_tokens(const std::vector<TokenTouch>& touches) {
  if (touches.empty()) return {};
  // Usage written behind: no notification (other instances need not re-read for it).
  Tx tx(*db_);
  PG_TRY(tx.begin());
  for (const TokenTouch& t : touches) {
    PG_TRY(
        db_->exec("UPDATE client_tokens SET last_used_at = $1 WHERE id = $2 AND "
                  "last_used_at < $1",
                  {arg(t.at_ms), arg(t.id)}));
  }
  PG_TRY(tx.commit());
  return {};
}

Result<std::optional<ClientToken>> PgStore::find_token_by_hash(std::string_view token_sha256) {
  if (!is_sha256_hex(token_sha256)) return std::optional<ClientToken>();
  PG_LET(rows, db_->exec(std::string("SELECT ") + kTokenColumns +
                             " FROM client_tokens WHERE token_sha256 = $1",
                         {arg(token_sha256)}));
  if (rows.size() == 0) return std::optional<ClientToken>();
  return std::optional<ClientToken>(read_token(rows, 0));
}

Result<bool> PgStore::update_token(std::int64_t id, const std::string& label,
                                   const TokenPolicyRow& policy) {
  if (label.size() > kMaxLabelLength) return Error::invalid("token label is too long");
  if (auto problem = token_policy_problem(policy)) return Error::invalid(problem->message);
  pg::Params params;
  add_policy(params, policy);
  params.push_back(arg(label));
  params.push_back(arg(id));
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_LET(upd, db_->exec("UPDATE client_tokens SET models = $1, rpm = $2, tpm = $3, "
                        "daily_tokens = $4, monthly_tokens = $5, expires_at = $6, key_group = $7, "
                        "enabled = $8, label = $9 WHERE id = $10",
                        params));
  if (upd.affected() > 0) PG_TRY(notify(ChangeTopic::kTokens));
  PG_TRY(tx.commit());
  return upd.affected() > 0;
}

Result<void> PgStore::add_token_usage(const std::vector<TokenDayUsage>& deltas) {
  if (deltas.empty()) return {};
  // Summed per (token, day) first: one upsert may not touch a row twice. Usage written behind:
  // no notification (each gateway re-reads the totals on its own schedule).
  std::map<std::pair<std::int64_t, std::int64_t>, std::pair<std::int64_t, std::int64_t>> sums;
  for (const TokenDayUsage& d : deltas) {
    auto& s = sums[{d.token_id, d.day}];
    s.first += d.requests;
    s.second += d.tokens;
  }
  pg::Params tokens, days, requests, counts;
  for (const auto& [k, v] : sums) {
    tokens.push_back(arg(k.first));
    days.push_back(arg(k.second));
    requests.push_back(arg(v.first));
    counts.push_back(arg(v.second));
  }
  PG_TRY(db_->exec(
      "INSERT INTO token_usage_daily (token_id, day, requests, tokens) SELECT * FROM "
      "unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) "
      "ON CONFLICT (token_id, day) DO UPDATE SET "
      "requests = token_usage_daily.requests + excluded.requests, "
      "tokens = token_usage_daily.tokens + excluded.tokens",
      {pg::array_of(tokens), pg::array_of(days), pg::array_of(requests), pg::array_of(counts)}));
  return {};
}

Result<std::vector<TokenDayUsage>> PgStore::load_token_usage(std::int64_t from_day) {
  PG_LET(rows, db_->exec("SELECT token_id, day, requests, tokens FROM token_usage_daily "
                         "WHERE day >= $1 ORDER BY token_id, day",
                         {arg(from_day)}));
  std::vector<TokenDayUsage> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back({rows.i64(i, 0), rows.i64(i, 1), rows.i64(i, 2), rows.i64(i, 3)});
  }
  return out;
}

// ---- Settings ----------------------------------------------------------------------------------

Result<std::map<std::string, std::string>> PgStore::load_settings() {
  PG_LET(rows, db_->exec("SELECT name, value FROM settings"));
  std::map<std::string, std::string> out;
  for (int i = 0; i < rows.size(); ++i) out.emplace(rows.text(i, 0), rows.text(i, 1));
  return out;
}

Result<void> PgStore::save_settings(const SettingsBatch& batch) {
  for (const auto& [name, value] : batch.set) {
    if (auto ok = check_setting_name(name); !ok.ok()) return ok.error();
  }
  for (const std::string& name : batch.reset) {
    if (auto ok = check_setting_name(name); !ok.ok()) return ok.error();
    if (batch.set.count(name) != 0) {
      return Error::invalid("setting '" + name + "' is both set and reset in one batch");
    }
  }
  Tx tx(*db_);
  PG_TRY(tx.begin());
  for (const auto& [name, value] : batch.set) {
    auto put = db_->exec(
        "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
        "updated_at = excluded.updated_at",
        {arg(name), arg(value), arg(batch.updated_at)});
    if (!put.ok()) {
      if (put.error().code == ErrorCode::kInvalidArgument) {
        return Error::invalid("setting '" + name + "': value is not valid JSON");  // rolls back
      }
      return put.error();
    }
  }
  for (const std::string& name : batch.reset) {
    PG_TRY(db_->exec("DELETE FROM settings WHERE name = $1", {arg(name)}));
  }
  PG_TRY(notify(ChangeTopic::kSettings));
  PG_TRY(tx.commit());
  return {};
}

// ---- Admin sessions ----------------------------------------------------------------------------

Result<void> PgStore::create_session(const AdminSession& session) {
  if (!is_sha256_hex(session.id_sha256)) {
    return Error::invalid("session id hash must be 64 lowercase hex characters (SHA-256)");
  }
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_TRY(
      db_->exec("INSERT INTO admin_sessions (id_sha256, created_at, expires_at) "
                "VALUES ($1, $2, $3)",
                {arg(session.id_sha256), arg(session.created_at), arg(session.expires_at)}));
  PG_TRY(notify(ChangeTopic::kSessions));
  PG_TRY(tx.commit());
  return {};
}

Result<std::optional<AdminSession>> PgStore::find_session(std::string_view id_sha256,
                                                          Millis now_ms) {
  if (!is_sha256_hex(id_sha256)) return std::optional<AdminSession>();
  PG_LET(rows, db_->exec("SELECT id_sha256, created_at, expires_at FROM admin_sessions "
                         "WHERE id_sha256 = $1 AND expires_at > $2",
                         {arg(id_sha256), arg(now_ms)}));
  if (rows.size() == 0) return std::optional<AdminSession>();
  return std::optional<AdminSession>(AdminSession{rows.text(0, 0), rows.i64(0, 1), rows.i64(0, 2)});
}

Result<bool> PgStore::delete_session(std::string_view id_sha256) {
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_LET(del, db_->exec("DELETE FROM admin_sessions WHERE id_sha256 = $1", {arg(id_sha256)}));
  if (del.affected() > 0) PG_TRY(notify(ChangeTopic::kSessions));
  PG_TRY(tx.commit());
  return del.affected() > 0;
}

Result<std::int64_t> PgStore::delete_all_sessions() {
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_LET(del, db_->exec("DELETE FROM admin_sessions"));
  PG_TRY(notify(ChangeTopic::kSessions));
  PG_TRY(tx.commit());
  return del.affected();
}

Result<std::int64_t> PgStore::purge_expired_sessions(Millis now_ms) {
  // Expired sessions are invalid everywhere already: no notification.
  PG_LET(del, db_->exec("DELETE FROM admin_sessions WHERE expires_at <= $1", {arg(now_ms)}));
  return del.affected();
}

}  // namespace gemgate::storage
