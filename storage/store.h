// Store: everything gemgate keeps across restarts — pool keys and their health, client tokens,
// settings, admin sessions, request/error logs and usage statistics — behind one abstract
// interface. SqliteStore implements it today; a PostgreSQL store will sit beside it.
//
// Thread rules: a Store is NOT thread-safe. It is used by one thread at a time: the start-up
// code, then the StorageThread that owns it. Workers never call it (they queue work instead).
//
// Every method is synchronous and returns Result<T>; nothing throws. A write that returns ok has
// been committed durably. Error codes: kInvalidArgument (bad input), kAlreadyExists (unique
// clash), kUnavailable (busy/locked/disk full; retriable), kInternal (anything else). Error
// messages never contain a secret.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/types.h"

namespace gemgate::storage {

class Store {
 public:
  virtual ~Store() = default;

  // ---- Schema ----
  // The schema version the database is at (0 = empty).
  virtual Result<int> schema_version() = 0;
  // Applies every pending migration in order, each in its own transaction. A no-op when the
  // schema is current; an error when the database is newer than this build understands.
  virtual Result<void> migrate() = 0;
  // Checks the database for corruption; `full` runs the slow exhaustive check.
  virtual Result<void> check_integrity(bool full) = 0;

  // ---- Pool keys ----
  // All keys with their health and cooldowns, ordered by id (start-up; a few queries, no N+1).
  virtual Result<std::vector<Key>> load_keys() = 0;
  // Adds keys in one transaction. Each secret is trimmed of surrounding whitespace, then must be
  // 1..256 printable ASCII characters without whitespace; others are reported in `rejected`.
  // Secrets already stored or repeated in the input count as `duplicates`. Keys are stored
  // sealed (AES-256-GCM) with a keyed fingerprint for dedupe; never in clear. From
  // kEnvironment, keys an admin deleted are skipped (`skipped_deleted`); from kAdmin, adding a
  // key lifts its deletion record.
  virtual Result<AddKeysResult> add_keys(const std::vector<std::string>& secrets, Millis now_ms,
                                         KeyOrigin origin = KeyOrigin::kAdmin) = 0;
  // Deletes keys (and their cooldowns) and records their fingerprints as deleted, in one
  // transaction, so the environment bootstrap does not re-add them. Returns how many existed.
  virtual Result<std::int64_t> delete_keys(const std::vector<std::int64_t>& ids) = 0;
  // Disables or enables keys; `reason` is kept with a disabled key (cleared on enable). Sets
  // health_changed_at to now (a decision). Returns how many keys exist among `ids`.
  virtual Result<std::int64_t> set_keys_disabled(const std::vector<std::int64_t>& ids,
                                                 bool disabled, std::string_view reason) = 0;
  // Writes each key's health as one gateway sees it, in one transaction. Several gateways of a
  // group write the same rows, so this merges rather than replaces, decided by
  // `health_changed_at` (when the disabled state last changed or the health was reset):
  //   - later than the stored one: a newer decision; disabled, reason and the whole cooldown
  //     list are replaced, and health_changed_at moves to it;
  //   - equal: disabled and reason are written, cooldowns merged per model (the later until_ms
  //     wins, with its strikes; stored cooldowns that have ended are dropped);
  //   - older: a stale view; only failures, last_error and the last-use/check times go in.
  // last_used_at and last_checked_at never move backwards. Entries for keys that no longer
  // exist are skipped silently (a key deleted while its health was queued).
  virtual Result<void> save_key_health(const std::vector<KeyHealthRow>& health) = 0;
  // The health of every key (no secrets, nothing decrypted), ordered by key id: what a gateway
  // re-reads to merge what the others of its group learned (conf/group_sync).
  virtual Result<std::vector<KeyHealthRow>> load_key_health() = 0;
  // Forgives keys: enabled, failures = 0, cooldowns and strikes cleared, health_changed_at =
  // now. Returns how many exist.
  virtual Result<std::int64_t> reset_key_health(const std::vector<std::int64_t>& ids) = 0;
  // Replaces the policy (weight, group, rpm, tpm, proxy, note) of each (id, policy) in one
  // transaction; the proxy is stored sealed. Ids that do not exist are skipped. Returns how many
  // keys were changed. Fails (nothing written) when a value is out of range (weight 1..100,
  // group <= 64 characters, rpm/tpm >= 0, note <= 500 bytes).
  virtual Result<std::int64_t> set_key_policies(
      const std::vector<std::pair<std::int64_t, KeyPolicyRow>>& policies) = 0;

  // ---- Client tokens ----
  // Adds a token; returns its id. kAlreadyExists when the hash is already stored.
  virtual Result<std::int64_t> add_token(const NewClientToken& token) = 0;
  // All tokens, ordered by id.
  virtual Result<std::vector<ClientToken>> list_tokens() = 0;
  // Deletes one token and records its hash as deleted (one transaction); returns false when
  // there was none with that id. add_token() with the same hash lifts the record.
  virtual Result<bool> delete_token(std::int64_t id) = 0;
  // True when a token with this SHA-256 was deleted by an admin and not added again since.
  virtual Result<bool> token_was_deleted(std::string_view token_sha256) = 0;
  // Records last use; never moves last_used_at backwards. Unknown ids are ignored.
  virtual Result<void> touch_tokens(const std::vector<TokenTouch>& touches) = 0;
  // The token whose SHA-256 is `token_sha256` (lowercase hex), or nullopt.
  virtual Result<std::optional<ClientToken>> find_token_by_hash(std::string_view token_sha256) = 0;
  // Replaces the label and policy of token `id`; false when there is none. The policy is
  // checked (validate_token_policy) and refused with kInvalid, naming the field.
  virtual Result<bool> update_token(std::int64_t id, const std::string& label,
                                    const TokenPolicyRow& policy) = 0;
  // Adds each delta to the stored (token, day) totals, in one transaction. Several gateways
  // sharing one database each add their own deltas, so the rows hold the group's sum.
  virtual Result<void> add_token_usage(const std::vector<TokenDayUsage>& deltas) = 0;
  // Every stored (token, day) total with day >= `from_day`.
  virtual Result<std::vector<TokenDayUsage>> load_token_usage(std::int64_t from_day) = 0;
  // usage_stats() of the requests of one client token only (by_key, by_model, series and
  // totals; `refused` is 0: refused requests have no token). Read from that token's log rows.
  virtual Result<UsageStats> usage_stats_for_token(const StatsQuery& q, std::int64_t token_id) = 0;

  // ---- Settings ----
  // Every stored setting: name → JSON text. Names absent here are at their defaults.
  virtual Result<std::map<std::string, std::string>> load_settings() = 0;
  // Applies the whole batch in one transaction, or nothing of it. Values must be valid JSON.
  virtual Result<void> save_settings(const SettingsBatch& batch) = 0;

  // ---- Admin sessions ----
  // kAlreadyExists when the id hash is already stored.
  virtual Result<void> create_session(const AdminSession& session) = 0;
  // The session if it exists and expires_at > now_ms; else nullopt.
  virtual Result<std::optional<AdminSession>> find_session(std::string_view id_sha256,
                                                           Millis now_ms) = 0;
  // Returns false when there was no such session.
  virtual Result<bool> delete_session(std::string_view id_sha256) = 0;
  // Logs everybody out (the admin token changed). Returns how many were deleted.
  virtual Result<std::int64_t> delete_all_sessions() = 0;
  virtual Result<std::int64_t> purge_expired_sessions(Millis now_ms) = 0;

  // ---- Stored responses ----
  // Inserts or replaces response `row.id`. kInvalidArgument when the id is empty or too long or
  // the data is over kMaxStoredResponseBytes or not JSON.
  virtual Result<void> put_response(const StoredResponse& row) = 0;
  // Response `id` if it belongs to `token_id` and expires_at > now_ms; else nullopt (another
  // token's row is indistinguishable from a missing one).
  virtual Result<std::optional<StoredResponse>> find_response(std::string_view id,
                                                              std::int64_t token_id,
                                                              Millis now_ms) = 0;
  // Deletes response `id` of `token_id`; false when there was none (or it is another token's).
  virtual Result<bool> delete_response(std::string_view id, std::int64_t token_id) = 0;
  // Deletes every response with expires_at <= now_ms. Returns how many.
  virtual Result<std::int64_t> prune_responses(Millis now_ms) = 0;

  // ---- Resource affinity ----
  // Inserts or replaces the owner of resource `row.name`. kInvalidArgument when the name is
  // empty or over kMaxResourceNameLength, or the kind is empty.
  virtual Result<void> put_resource(const ResourceOwner& row) = 0;
  // The owner of resource `name` if expires_at > now_ms; else nullopt.
  virtual Result<std::optional<ResourceOwner>> find_resource(std::string_view name,
                                                             Millis now_ms) = 0;
  // Every resource with expires_at > now_ms, oldest first (the in-memory map loaded at start).
  virtual Result<std::vector<ResourceOwner>> load_resources(Millis now_ms) = 0;
  // Deletes resource `name`; false when there was none.
  virtual Result<bool> delete_resource(std::string_view name) = 0;
  // Deletes every resource with expires_at <= now_ms. Returns how many.
  virtual Result<std::int64_t> prune_resources(Millis now_ms) = 0;

  // ---- Request logs ----
  // Appends rows in one transaction (never shared with key/settings writes) and folds them into
  // the usage statistics.
  virtual Result<void> append_request_logs(const std::vector<RequestLogRow>& rows) = 0;
  // Newest first (time, then id). `total` counts every row matching the filter.
  virtual Result<LogPage<RequestLogRow>> query_request_logs(const LogFilter& filter,
                                                            PageRequest page) = 0;
  virtual Result<std::int64_t> delete_request_logs_by_ids(const std::vector<std::int64_t>& ids) = 0;
  // Deletes rows matching the filter (an empty filter deletes all). Large deletes run in chunks,
  // each its own transaction. Usage statistics are not affected (see the README).
  virtual Result<std::int64_t> delete_request_logs(const LogFilter& filter) = 0;
  // Retention: deletes rows with time_ms < before_ms.
  virtual Result<std::int64_t> prune_request_logs(Millis before_ms) = 0;
  // Row cap: deletes the oldest rows (by id, i.e. by arrival) beyond the newest `max_rows`, at
  // most `max_chunks` chunks of 5000 rows, each its own transaction, so one call never holds
  // the storage thread long; call again later for the rest. Returns how many went.
  virtual Result<std::int64_t> cap_request_logs(std::int64_t max_rows, int max_chunks) = 0;

  // ---- Error logs (same shapes as request logs) ----
  virtual Result<void> append_error_logs(const std::vector<ErrorLogRow>& rows) = 0;
  virtual Result<LogPage<ErrorLogRow>> query_error_logs(const ErrorLogFilter& filter,
                                                        PageRequest page) = 0;
  virtual Result<std::int64_t> delete_error_logs_by_ids(const std::vector<std::int64_t>& ids) = 0;
  virtual Result<std::int64_t> delete_error_logs(const ErrorLogFilter& filter) = 0;
  virtual Result<std::int64_t> prune_error_logs(Millis before_ms) = 0;

  // ---- Usage statistics ----
  // Totals, per key, per model and a time series for [now - window, now), exact to the
  // millisecond. kInvalidArgument for a window <= 0 or longer than 400 days.
  virtual Result<UsageStats> usage_stats(const StatsQuery& query) = 0;
  // Requests and tokens of each of `key_ids` in [from_ms, to_ms); one entry per requested id,
  // in the order given (zeros when unused). For the key table's current page.
  virtual Result<std::vector<KeyUsage>> key_usage(const std::vector<std::int64_t>& key_ids,
                                                  Millis from_ms, Millis to_ms) = 0;
  // Retention of the statistics (kept apart from the logs): drops every rollup row of the UTC
  // days before the day containing before_ms. Returns how many rollup rows went.
  virtual Result<std::int64_t> prune_usage(Millis before_ms) = 0;
  // Drops the fine rollups (per second × model, per minute × key) before `before_ms`; they
  // serve only the recent end of a window (keep at least three hours).
  virtual Result<std::int64_t> prune_fine_usage(Millis before_ms) = 0;
  // Adds counts of requests refused before authentication (one transaction, summed per minute).
  virtual Result<void> add_refused(const std::vector<RefusedCount>& counts) = 0;
};

}  // namespace gemgate::storage
