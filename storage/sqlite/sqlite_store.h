// SqliteStore: the Store on one SQLite file (WAL, synchronous=FULL), used through SQLiteCpp.
// One connection, one thread at a time (see store.h). The method bodies are split by topic:
// sqlite_store.cpp (open, pragmas, migrations), sqlite_keys.cpp, sqlite_admin_data.cpp
// (tokens, settings, sessions), sqlite_logs.cpp and sqlite_stats.cpp.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "storage/master_key.h"
#include "storage/secret_box.h"
#include "storage/store.h"

namespace SQLite {
class Database;
}

namespace gemgate::storage::sqlite {
struct SqlWhere;
}

namespace gemgate::storage {

namespace sqlite {
class StatementCache;  // sql_util.h
}  // namespace sqlite

class SqliteStore final : public Store {
 public:
  // Opens the database at `path` (a file path or ":memory:"), creating it and its parent
  // directory (mode 0700; new files 0600) when missing. Then: busy_timeout first, refuse a file
  // that is not a gemgate database or fails `PRAGMA quick_check`, WAL + synchronous=FULL +
  // foreign_keys=ON, and migrate to the latest schema. Errors name the path and the cause.
  // The master key (see master_key.h) is loaded and checked against the value stored in the
  // database BEFORE any migration or write: a wrong key fails with nothing changed. After
  // migrating, keys still in clear (from schema v1) are sealed in one transaction, and the file
  // is vacuumed and its WAL truncated so no clear copy stays behind.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const MasterKeyOptions& master_key = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  const std::string& path() const { return path_; }

  // The connection's durability settings as SQLite reports them (for the start-up log line and
  // for tests that pin the policy down).
  struct ConnectionSettings {
    std::string journal_mode;  // "wal" ("memory" for :memory:)
    int synchronous = 0;       // 2 = FULL
    bool foreign_keys = false;
    int busy_timeout_ms = 0;
  };
  Result<ConnectionSettings> connection_settings();

  // Replaces the busy timeout open() set (5 s: how long a write waits for a lock another
  // connection holds before failing with a retriable error). For tests that hold a lock on
  // purpose and want that failure at once rather than after 5 s of wall clock.
  void set_busy_timeout(std::chrono::milliseconds timeout);

  Result<int> schema_version() override;
  Result<void> migrate() override;
  Result<void> check_integrity(bool full) override;

  Result<std::vector<Key>> load_keys() override;
  Result<AddKeysResult> add_keys(const std::vector<std::string>& secrets, Millis now_ms,
                                 KeyOrigin origin = KeyOrigin::kAdmin) override;
  Result<std::int64_t> delete_keys(const std::vector<std::int64_t>& ids) override;
  Result<std::int64_t> set_keys_disabled(const std::vector<std::int64_t>& ids, bool disabled,
                                         std::string_view reason) override;
  Result<void> save_key_health(const std::vector<KeyHealthRow>& health) override;
  Result<std::vector<KeyHealthRow>> load_key_health() override;
  Result<std::int64_t> reset_key_health(const std::vector<std::int64_t>& ids) override;
  Result<std::int64_t> set_key_policies(
      const std::vector<std::pair<std::int64_t, KeyPolicyRow>>& policies) override;

  Result<std::int64_t> add_token(const NewClientToken& token) override;
  Result<std::vector<ClientToken>> list_tokens() override;
  Result<bool> delete_token(std::int64_t id) override;
  Result<bool> token_was_deleted(std::string_view token_sha256) override;
  Result<void> touch_tokens(const std::vector<TokenTouch>& touches) override;
  Result<std::optional<ClientToken>> find_token_by_hash(std::string_view token_sha256) override;
  Result<bool> update_token(std::int64_t id, const std::string& label,
                            const TokenPolicyRow& policy) override;
  Result<void> add_token_usage(const std::vector<TokenDayUsage>& deltas) override;
  Result<std::vector<TokenDayUsage>> load_token_usage(std::int64_t from_day) override;
  Result<UsageStats> usage_stats_for_token(const StatsQuery& q, std::int64_t token_id) override;

  Result<std::map<std::string, std::string>> load_settings() override;
  Result<void> save_settings(const SettingsBatch& batch) override;

  Result<void> create_session(const AdminSession& session) override;
  Result<std::optional<AdminSession>> find_session(std::string_view id_sha256,
                                                   Millis now_ms) override;
  Result<bool> delete_session(std::string_view id_sha256) override;
  Result<std::int64_t> delete_all_sessions() override;
  Result<std::int64_t> purge_expired_sessions(Millis now_ms) override;

  Result<void> put_response(const StoredResponse& row) override;
  Result<std::optional<StoredResponse>> find_response(std::string_view id, std::int64_t token_id,
                                                      Millis now_ms) override;
  Result<bool> delete_response(std::string_view id, std::int64_t token_id) override;
  Result<std::int64_t> prune_responses(Millis now_ms) override;
  Result<void> put_resource(const ResourceOwner& row) override;
  Result<std::optional<ResourceOwner>> find_resource(std::string_view name, Millis now_ms) override;
  Result<std::vector<ResourceOwner>> load_resources(Millis now_ms) override;
  Result<bool> delete_resource(std::string_view name) override;
  Result<std::int64_t> prune_resources(Millis now_ms) override;

  Result<void> append_request_logs(const std::vector<RequestLogRow>& rows) override;
  Result<LogPage<RequestLogRow>> query_request_logs(const LogFilter& filter,
                                                    PageRequest page) override;
  Result<std::int64_t> delete_request_logs_by_ids(const std::vector<std::int64_t>& ids) override;
  Result<std::int64_t> delete_request_logs(const LogFilter& filter) override;
  Result<std::int64_t> prune_request_logs(Millis before_ms) override;
  Result<std::int64_t> cap_request_logs(std::int64_t max_rows, int max_chunks) override;

  Result<void> append_error_logs(const std::vector<ErrorLogRow>& rows) override;
  Result<LogPage<ErrorLogRow>> query_error_logs(const ErrorLogFilter& filter,
                                                PageRequest page) override;
  Result<std::int64_t> delete_error_logs_by_ids(const std::vector<std::int64_t>& ids) override;
  Result<std::int64_t> delete_error_logs(const ErrorLogFilter& filter) override;
  Result<std::int64_t> prune_error_logs(Millis before_ms) override;

  Result<UsageStats> usage_stats(const StatsQuery& query) override;
  Result<std::vector<KeyUsage>> key_usage(const std::vector<std::int64_t>& key_ids, Millis from_ms,
                                          Millis to_ms) override;
  Result<std::int64_t> prune_usage(Millis before_ms) override;
  Result<std::int64_t> prune_fine_usage(Millis before_ms) override;
  Result<void> add_refused(const std::vector<RefusedCount>& counts) override;

  // Where the master key came from ("GEMGATE_MASTER_KEY", "key file '…'"), for messages.
  const std::string& master_key_source() const { return key_source_; }

 private:
  SqliteStore(std::unique_ptr<SQLite::Database> db, std::string path);

  // Seals every key still in clear and stores the master key check value (one transaction);
  // then, if anything was sealed, vacuums and truncates the WAL. Returns how many were sealed.
  Result<std::int64_t> seal_clear_keys();
  Result<void> migrate_steps();

  // Deletes rows of `table` whose id is in `ids`, in one transaction.
  Result<std::int64_t> delete_by_ids(const char* table, const std::vector<std::int64_t>& ids);
  // Deletes rows of `table` matching `where` in chunks of a few thousand, each its own
  // transaction, so a huge delete never holds the write lock for long.
  Result<std::int64_t> delete_where(const char* table, const sqlite::SqlWhere& where);

  std::unique_ptr<SQLite::Database> db_;
  // The log batch's statements, reused across batches; destroyed before db_.
  std::unique_ptr<sqlite::StatementCache> statements_;
  std::string path_;
  std::unique_ptr<SecretBox> box_;
  std::string key_source_;
};

}  // namespace gemgate::storage
