// PgStore: the Store on PostgreSQL, through libpq. One connection owned by the store, used by one
// thread at a time (see store.h): start-up, then the StorageThread. The method bodies are split
// by topic like SqliteStore's: pg_store.cpp (open, migrations, generic deletes), pg_keys.cpp,
// pg_admin_data.cpp (tokens, settings, sessions), pg_responses.cpp, pg_logs.cpp, pg_stats.cpp,
// pg_token_stats.cpp.
//
// Every write is one transaction. Writes of keys, key health, tokens, settings and sessions
// send `NOTIFY gemgate_changes, '<topic>'` inside that transaction (storage/change_feed.h), so
// the other gateways of a group learn of them when they commit. A broken connection makes calls
// fail with kUnavailable (retriable); the next call reconnects (pg_conn.h).
#pragma once

#include <memory>
#include <string>

#include "storage/change_feed.h"
#include "storage/master_key.h"
#include "storage/secret_box.h"
#include "storage/store.h"

namespace gemgate::storage::pg {
class Connection;
struct Where;
}  // namespace gemgate::storage::pg

namespace gemgate::storage {

class PgStore final : public Store {
 public:
  // Connects to `conninfo` (postgres://… URL or key=value form), checks the master key against
  // the database's check value BEFORE any change, migrates under a transaction-scoped advisory
  // lock (two instances starting together migrate once) and stores the check value. The master
  // key must come from GEMGATE_MASTER_KEY or an explicit key file (every instance of a group
  // needs the same one). Errors never contain the password.
  static Result<std::unique_ptr<PgStore>> open(const std::string& conninfo,
                                               const MasterKeyOptions& master_key);

  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

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

  const std::string& master_key_source() const { return key_source_; }

 private:
  explicit PgStore(std::unique_ptr<pg::Connection> conn);

  // Sends the change notification of `topic` (inside the caller's transaction).
  Result<void> notify(ChangeTopic topic);
  Result<std::string> stored_check_value();
  Result<std::int64_t> delete_by_ids(const char* table, const std::vector<std::int64_t>& ids);
  Result<std::int64_t> delete_where(const char* table, const pg::Where& where);

  std::unique_ptr<pg::Connection> db_;
  std::unique_ptr<SecretBox> box_;
  std::string key_source_;
};

}  // namespace gemgate::storage
