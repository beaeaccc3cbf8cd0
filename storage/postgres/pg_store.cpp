// PgStore: connecting, the master key check, migrations under an advisory lock, change
// notifications and the generic delete helpers. See storage/README.md "PostgreSQL".
#include "storage/postgres/pg_store.h"

#include "core/crypto.h"
#include "core/log.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_schema.h"
#include "storage/postgres/pg_util.h"

namespace gemgate::storage {

using pg::arg;
using pg::Tx;

namespace {
constexpr int kDeleteChunk = 5000;
}

PgStore::PgStore(std::unique_ptr<pg::Connection> conn) : db_(std::move(conn)) {}
PgStore::~PgStore() = default;

Result<std::unique_ptr<PgStore>> PgStore::open(const std::string& conninfo,
                                               const MasterKeyOptions& master_key) {
  const bool has_env_key = master_key.env_value && !master_key.env_value->empty();
  if (!has_env_key && master_key.file.empty()) {
    return Error::invalid(
        "a PostgreSQL database needs the master key from GEMGATE_MASTER_KEY or "
        "storage.master_key_file (every gateway sharing the database must use the same key)");
  }
  PG_LET(conn, pg::Connection::open(conninfo));
  std::unique_ptr<PgStore> store(new PgStore(std::move(conn)));
  PG_LET(check, store->stored_check_value());
  // The key before any change: a missing or wrong key must leave the database as it was.
  PG_LET(key, load_master_key(master_key, "", check.empty()));
  auto box = std::make_unique<SecretBox>(key.key);
  auto wrong_key = [&key] {
    return Error::invalid("the master key from " + key.source +
                          " is not the key the pool keys in this PostgreSQL database were "
                          "encrypted with; nothing was changed. Start with the original key "
                          "file or GEMGATE_MASTER_KEY");
  };
  if (!check.empty() && !crypto::constant_time_equals(check, box->check_value())) {
    return wrong_key();
  }
  store->box_ = std::move(box);
  store->key_source_ = key.source;
  PG_TRY(store->migrate());
  {
    // Two instances with different keys starting on an empty database: the first check value
    // stored wins and the other instance is refused here.
    PG_TRY(
        store->db_->exec("INSERT INTO storage_meta (name, value) VALUES ('master_key_check', "
                         "$1) ON CONFLICT (name) DO NOTHING",
                         {arg(store->box_->check_value())}));
    PG_LET(stored, store->stored_check_value());
    if (!crypto::constant_time_equals(stored, store->box_->check_value())) return wrong_key();
  }
  PG_LET(version, store->schema_version());
  log::info("storage: opened PostgreSQL database (schema v" + std::to_string(version) + ")");
  return store;
}

Result<std::string> PgStore::stored_check_value() {
  PG_LET(exists, db_->exec("SELECT to_regclass('storage_meta') IS NOT NULL"));
  if (!exists.boolean(0, 0)) return std::string();
  PG_LET(rows, db_->exec("SELECT value FROM storage_meta WHERE name = 'master_key_check'"));
  return rows.size() == 0 ? std::string() : rows.text(0, 0);
}

Result<int> PgStore::schema_version() {
  PG_LET(exists, db_->exec("SELECT to_regclass('gemgate_schema') IS NOT NULL"));
  if (!exists.boolean(0, 0)) return 0;
  PG_LET(rows, db_->exec("SELECT version FROM gemgate_schema"));
  return rows.size() == 0 ? 0 : static_cast<int>(rows.i64(0, 0));
}

Result<void> PgStore::migrate() {
  const int latest = pg::latest_schema_version();
  for (const pg::Migration& step : pg::migrations()) {
    Tx tx(*db_);
    PG_TRY(tx.begin());
    // Held until COMMIT: a second instance waits here, then sees the new version.
    PG_TRY(db_->exec("SELECT pg_advisory_xact_lock($1)", {arg(pg::kMigrationLockKey)}));
    PG_LET(current, schema_version());
    if (current == 0) {
      PG_LET(tables, db_->exec("SELECT count(*) FROM pg_catalog.pg_tables "
                               "WHERE schemaname = current_schema()"));
      if (tables.i64(0, 0) > 0) {
        return Error::invalid(
            "the PostgreSQL database holds tables but no gemgate schema: it belongs to another "
            "program (use an empty database or schema for gemgate); nothing was changed");
      }
    }
    if (current > latest) {
      return Error::invalid("the PostgreSQL database has schema version " +
                            std::to_string(current) + ", newer than this build supports (" +
                            std::to_string(latest) +
                            "); upgrade gemgate or restore a backup taken by this version");
    }
    if (step.version <= current) continue;
    if (current != 0 && step.version != current + 1) {
      return Error::internal("migration " + std::to_string(step.version) + " follows version " +
                             std::to_string(current) + ": the migration list has a gap");
    }
    PG_TRY(db_->exec_script(step.sql));
    PG_TRY(db_->exec("UPDATE gemgate_schema SET version = $1", {arg(step.version)}));
    PG_TRY(tx.commit());
    log::info("storage: applied PostgreSQL schema migration " + std::to_string(step.version) +
              " (" + step.name + ")");
  }
  return {};
}

Result<void> PgStore::check_integrity(bool /*full*/) {
  // PostgreSQL checks its own pages (checksums, WAL); what can go wrong from here is the link
  // and the schema.
  PG_LET(version, schema_version());
  if (version != pg::latest_schema_version()) {
    return Error::internal("the PostgreSQL database is at schema version " +
                           std::to_string(version) + ", expected " +
                           std::to_string(pg::latest_schema_version()));
  }
  return {};
}

Result<void> PgStore::notify(ChangeTopic topic) {
  PG_TRY(db_->exec("SELECT pg_notify('gemgate_changes', $1)",
                   {arg(std::string(change_topic_name(topic)))}));
  return {};
}

Result<std::int64_t> PgStore::delete_by_ids(const char* table,
                                            const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return std::int64_t{0};
  PG_LET(rows, db_->exec(std::string("DELETE FROM ") + table + " WHERE id = ANY($1::bigint[])",
                         {pg::id_array(ids)}));
  return rows.affected();
}

Result<std::int64_t> PgStore::delete_where(const char* table, const pg::Where& where) {
  if (where.sql.empty()) {
    PG_LET(rows, db_->exec(std::string("DELETE FROM ") + table));
    return rows.affected();
  }
  const std::string sql = std::string("DELETE FROM ") + table + " WHERE id IN (SELECT id FROM " +
                          table + where.sql + " LIMIT " + std::to_string(kDeleteChunk) + ")";
  std::int64_t deleted = 0;
  for (;;) {
    PG_LET(rows, db_->exec(sql, where.args));  // one statement, its own transaction
    deleted += rows.affected();
    if (rows.affected() < kDeleteChunk) return deleted;
  }
}

}  // namespace gemgate::storage
