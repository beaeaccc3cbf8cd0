// SqliteStore: client tokens (stored as SHA-256 only), settings (name → JSON text) and browser
// admin sessions (stored as SHA-256 of the session id).
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <sqlite3.h>

#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/validate.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::WriteTx;

namespace {

constexpr const char* kTokenColumns =
    "id, label, token_sha256, prefix, suffix, created_at, last_used_at, models, rpm, tpm, "
    "daily_tokens, monthly_tokens, expires_at, key_group, enabled";

ClientToken read_token(SQLite::Statement& st) {
  ClientToken t;
  t.id = st.getColumn(0).getInt64();
  t.label = st.getColumn(1).getString();
  t.token_sha256 = st.getColumn(2).getString();
  t.prefix = st.getColumn(3).getString();
  t.suffix = st.getColumn(4).getString();
  t.created_at = st.getColumn(5).getInt64();
  t.last_used_at = st.getColumn(6).getInt64();
  t.policy.models = split_token_models(st.getColumn(7).getString());
  t.policy.rpm = st.getColumn(8).getInt64();
  t.policy.tpm = st.getColumn(9).getInt64();
  t.policy.daily_tokens = st.getColumn(10).getInt64();
  t.policy.monthly_tokens = st.getColumn(11).getInt64();
  t.policy.expires_at = st.getColumn(12).getInt64();
  t.policy.key_group = st.getColumn(13).getString();
  t.policy.enabled = st.getColumn(14).getInt() != 0;
  return t;
}

// Binds the policy columns (models .. enabled) from position `at` on.
void bind_policy(SQLite::Statement& st, int at, const TokenPolicyRow& p) {
  st.bind(at, join_token_models(p.models));
  st.bind(at + 1, p.rpm);
  st.bind(at + 2, p.tpm);
  st.bind(at + 3, p.daily_tokens);
  st.bind(at + 4, p.monthly_tokens);
  st.bind(at + 5, p.expires_at);
  st.bind(at + 6, p.key_group);
  st.bind(at + 7, p.enabled ? 1 : 0);
}

}  // namespace

// ---- Client tokens -----------------------------------------------------------------------------

Result<std::int64_t> SqliteStore::add_token(const NewClientToken& token) {
  if (!is_sha256_hex(token.token_sha256)) {
    return Error::invalid("token hash must be 64 lowercase hex characters (SHA-256)");
  }
  if (token.label.size() > kMaxLabelLength) return Error::invalid("token label is too long");
  if (token.prefix.size() > kMaxDisplayAffix || token.suffix.size() > kMaxDisplayAffix) {
    return Error::invalid("token display prefix/suffix is too long");
  }
  if (auto problem = token_policy_problem(token.policy)) return Error::invalid(problem->message);
  return guarded("add_token", [&]() -> Result<std::int64_t> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_,
                         "INSERT INTO client_tokens (label, token_sha256, prefix, suffix, "
                         "created_at, models, rpm, tpm, daily_tokens, monthly_tokens, expires_at, "
                         "key_group, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, token.label);
    st.bind(2, token.token_sha256);
    st.bind(3, token.prefix);
    st.bind(4, token.suffix);
    st.bind(5, token.created_at);
    bind_policy(st, 6, token.policy);
    st.exec();
    const std::int64_t id = db_->getLastInsertRowid();
    // Adding a token deliberately (the admin API) lifts an earlier deletion: the environment
    // may bring it back again after a later deletion record is gone.
    SQLite::Statement lift(*db_, "DELETE FROM deleted_secrets WHERE kind = 'token' AND digest = ?");
    lift.bind(1, token.token_sha256);
    lift.exec();
    tx.commit();
    return id;
  });
}

Result<std::vector<ClientToken>> SqliteStore::list_tokens() {
  return guarded("list_tokens", [&]() -> Result<std::vector<ClientToken>> {
    std::vector<ClientToken> out;
    SQLite::Statement st(
        *db_, std::string("SELECT ") + kTokenColumns + " FROM client_tokens ORDER BY id");
    while (st.executeStep()) out.push_back(read_token(st));
    return out;
  });
}

Result<bool> SqliteStore::delete_token(std::int64_t id) {
  return guarded("delete_token", [&]() -> Result<bool> {
    WriteTx tx(*db_);
    // The hash is remembered in the same transaction, so ALLOWED_TOKENS cannot re-add it.
    SQLite::Statement record(*db_,
                             "INSERT OR REPLACE INTO deleted_secrets (kind, digest, deleted_at) "
                             "SELECT 'token', token_sha256, ? FROM client_tokens WHERE id = ?");
    record.bind(1, sqlite::wall_clock_ms());
    record.bind(2, id);
    record.exec();
    SQLite::Statement del(*db_, "DELETE FROM client_tokens WHERE id = ?");
    del.bind(1, id);
    const int n = del.exec();
    SQLite::Statement usage(*db_, "DELETE FROM token_usage_daily WHERE token_id = ?");
    usage.bind(1, id);
    usage.exec();
    tx.commit();
    return n > 0;
  });
}

Result<bool> SqliteStore::token_was_deleted(std::string_view token_sha256) {
  return guarded("token_was_deleted", [&]() -> Result<bool> {
    SQLite::Statement st(*db_, "SELECT 1 FROM deleted_secrets WHERE kind = 'token' AND digest = ?");
    st.bind(1, std::string(token_sha256));
    return st.executeStep();
  });
}

Result<void> SqliteStore::touch_tokens(const std::vector<TokenTouch>& touches) {
  if (touches.empty()) return {};
  return guarded("touch_tokens", [&]() -> Result<void> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_,
                         "UPDATE client_tokens SET last_used_at = ? "
                         "WHERE id = ? AND last_used_at < ?");
    for (const TokenTouch& t : touches) {
      st.bind(1, t.at_ms);
      st.bind(2, t.id);
      st.bind(3, t.at_ms);
      st.exec();
      st.reset();
    }
    tx.commit();
    return {};
  });
}

Result<std::optional<ClientToken>> SqliteStore::find_token_by_hash(std::string_view token_sha256) {
  if (!is_sha256_hex(token_sha256)) return std::optional<ClientToken>();
  return guarded("find_token_by_hash", [&]() -> Result<std::optional<ClientToken>> {
    SQLite::Statement st(*db_, std::string("SELECT ") + kTokenColumns +
                                   " FROM client_tokens WHERE token_sha256 = ?");
    st.bind(1, std::string(token_sha256));
    if (!st.executeStep()) return std::optional<ClientToken>();
    return std::optional<ClientToken>(read_token(st));
  });
}

Result<bool> SqliteStore::update_token(std::int64_t id, const std::string& label,
                                       const TokenPolicyRow& policy) {
  if (label.size() > kMaxLabelLength) return Error::invalid("token label is too long");
  if (auto problem = token_policy_problem(policy)) return Error::invalid(problem->message);
  return guarded("update_token", [&]() -> Result<bool> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_,
                         "UPDATE client_tokens SET models = ?, rpm = ?, tpm = ?, daily_tokens = ?, "
                         "monthly_tokens = ?, expires_at = ?, key_group = ?, enabled = ?, "
                         "label = ? WHERE id = ?");
    bind_policy(st, 1, policy);
    st.bind(9, label);
    st.bind(10, id);
    const int n = st.exec();
    tx.commit();
    return n > 0;
  });
}

Result<void> SqliteStore::add_token_usage(const std::vector<TokenDayUsage>& deltas) {
  if (deltas.empty()) return {};
  return guarded("add_token_usage", [&]() -> Result<void> {
    WriteTx tx(*db_);
    SQLite::Statement st(
        *db_,
        "INSERT INTO token_usage_daily (token_id, day, requests, tokens) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (token_id, day) DO UPDATE SET "
        "requests = requests + excluded.requests, tokens = tokens + excluded.tokens");
    for (const TokenDayUsage& d : deltas) {
      st.bind(1, d.token_id);
      st.bind(2, d.day);
      st.bind(3, d.requests);
      st.bind(4, d.tokens);
      st.exec();
      st.reset();
    }
    tx.commit();
    return {};
  });
}

Result<std::vector<TokenDayUsage>> SqliteStore::load_token_usage(std::int64_t from_day) {
  return guarded("load_token_usage", [&]() -> Result<std::vector<TokenDayUsage>> {
    std::vector<TokenDayUsage> out;
    SQLite::Statement st(*db_,
                         "SELECT token_id, day, requests, tokens FROM token_usage_daily "
                         "WHERE day >= ? ORDER BY token_id, day");
    st.bind(1, from_day);
    while (st.executeStep()) {
      out.push_back(TokenDayUsage{st.getColumn(0).getInt64(), st.getColumn(1).getInt64(),
                                  st.getColumn(2).getInt64(), st.getColumn(3).getInt64()});
    }
    return out;
  });
}

// ---- Settings ----------------------------------------------------------------------------------

Result<std::map<std::string, std::string>> SqliteStore::load_settings() {
  return guarded("load_settings", [&]() -> Result<std::map<std::string, std::string>> {
    std::map<std::string, std::string> out;
    SQLite::Statement st(*db_, "SELECT name, value FROM settings");
    while (st.executeStep()) out.emplace(st.getColumn(0).getString(), st.getColumn(1).getString());
    return out;
  });
}

Result<void> SqliteStore::save_settings(const SettingsBatch& batch) {
  for (const auto& [name, value] : batch.set) {
    if (auto ok = check_setting_name(name); !ok.ok()) return ok.error();
  }
  for (const std::string& name : batch.reset) {
    if (auto ok = check_setting_name(name); !ok.ok()) return ok.error();
    if (batch.set.count(name) != 0) {
      return Error::invalid("setting '" + name + "' is both set and reset in one batch");
    }
  }
  // Values are checked by the table's CHECK (json_valid(value)) inside the transaction, so a
  // bad value anywhere rolls back the whole batch.
  return guarded("save_settings", [&]() -> Result<void> {
    WriteTx tx(*db_);
    SQLite::Statement put(*db_,
                          "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) "
                          "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                          "updated_at = excluded.updated_at");
    for (const auto& [name, value] : batch.set) {
      put.bind(1, name);
      put.bind(2, value);
      put.bind(3, batch.updated_at);
      try {
        put.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() != SQLITE_CONSTRAINT_CHECK) throw;
        return Error::invalid("setting '" + name + "': value is not valid JSON");  // rolls back
      }
      put.reset();
    }
    SQLite::Statement del(*db_, "DELETE FROM settings WHERE name = ?");
    for (const std::string& name : batch.reset) {
      del.bind(1, name);
      del.exec();
      del.reset();
    }
    tx.commit();
    return {};
  });
}

// ---- Admin sessions ----------------------------------------------------------------------------

Result<void> SqliteStore::create_session(const AdminSession& session) {
  if (!is_sha256_hex(session.id_sha256)) {
    return Error::invalid("session id hash must be 64 lowercase hex characters (SHA-256)");
  }
  return guarded("create_session", [&]() -> Result<void> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_,
                         "INSERT INTO admin_sessions (id_sha256, created_at, expires_at) "
                         "VALUES (?, ?, ?)");
    st.bind(1, session.id_sha256);
    st.bind(2, session.created_at);
    st.bind(3, session.expires_at);
    st.exec();
    tx.commit();
    return {};
  });
}

Result<std::optional<AdminSession>> SqliteStore::find_session(std::string_view id_sha256,
                                                              Millis now_ms) {
  if (!is_sha256_hex(id_sha256)) return std::optional<AdminSession>();
  return guarded("find_session", [&]() -> Result<std::optional<AdminSession>> {
    SQLite::Statement st(*db_,
                         "SELECT id_sha256, created_at, expires_at FROM admin_sessions "
                         "WHERE id_sha256 = ? AND expires_at > ?");
    st.bind(1, std::string(id_sha256));
    st.bind(2, now_ms);
    if (!st.executeStep()) return std::optional<AdminSession>();
    return std::optional<AdminSession>(AdminSession{
        st.getColumn(0).getString(), st.getColumn(1).getInt64(), st.getColumn(2).getInt64()});
  });
}

Result<bool> SqliteStore::delete_session(std::string_view id_sha256) {
  return guarded("delete_session", [&]() -> Result<bool> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_, "DELETE FROM admin_sessions WHERE id_sha256 = ?");
    st.bind(1, std::string(id_sha256));
    const int n = st.exec();
    tx.commit();
    return n > 0;
  });
}

Result<std::int64_t> SqliteStore::delete_all_sessions() {
  return guarded("delete_all_sessions", [&]() -> Result<std::int64_t> {
    WriteTx tx(*db_);
    const std::int64_t n = db_->exec("DELETE FROM admin_sessions");
    tx.commit();
    return n;
  });
}

Result<std::int64_t> SqliteStore::purge_expired_sessions(Millis now_ms) {
  return guarded("purge_expired_sessions", [&]() -> Result<std::int64_t> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_, "DELETE FROM admin_sessions WHERE expires_at <= ?");
    st.bind(1, now_ms);
    const std::int64_t n = st.exec();
    tx.commit();
    return n;
  });
}

}  // namespace gemgate::storage
