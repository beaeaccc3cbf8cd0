// SqliteStore: opening a database file safely, pragmas, migrations, integrity checks and the
// generic delete helpers. Durability choices are explained in storage/README.md.
#include "storage/sqlite/sqlite_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <filesystem>
#include <sqlite3.h>

#include "core/crypto.h"
#include "core/log.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sql_util.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::SqlWhere;
using sqlite::WriteTx;
namespace fs = std::filesystem;

namespace {

constexpr int kBusyTimeoutMs = 5000;

// Turns off SQLite's memory statistics before the library initialises (it must come first:
// sqlite3_config refuses once SQLite is in use, and then this changes nothing). With them on,
// every allocation SQLite makes takes a process-wide mutex to count itself — ~5 % of the
// storage thread's time per log row (perf of bench_log_append) — and gemgate reads no statistic.
void disable_memory_statistics() {
  static const bool done = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)done;
}

bool crypto_equal(const std::string& a, const std::string& b) {
  return crypto::constant_time_equals(a, b);
}
constexpr int kDeleteChunk = 5000;

int pragma_int(SQLite::Database& db, const char* pragma) {
  return db.execAndGet(std::string("PRAGMA ") + pragma).getInt();
}

// Runs quick_check or integrity_check and returns "" when the database is fine, else the first
// few problems it reported.
std::string run_check(SQLite::Database& db, bool full) {
  SQLite::Statement st(db, full ? "PRAGMA integrity_check(5)" : "PRAGMA quick_check(5)");
  std::string problems;
  while (st.executeStep()) {
    std::string line = st.getColumn(0).getString();
    if (line == "ok") return "";
    if (!problems.empty()) problems += "; ";
    problems += line;
  }
  return problems.empty() ? "no result" : problems;
}

// Makes sure the file is ours to migrate: either empty, or stamped with our application_id.
Result<void> check_identity(SQLite::Database& db, const std::string& path) {
  const int app_id = pragma_int(db, "application_id");
  if (app_id == sqlite::kApplicationId) return {};
  if (app_id != 0) {
    return Error::invalid("database '" + path + "' belongs to another application " +
                          "(PRAGMA application_id = " + std::to_string(app_id) + ")");
  }
  const int tables =
      db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").getInt();
  if (tables > 0) {
    return Error::invalid("database '" + path +
                          "' already holds tables but is not a gemgate database; "
                          "point DATABASE_URL at a new file");
  }
  return {};
}

// Creates the parent directory (0700: the database holds secrets) when it is missing.
Result<void> prepare_directory(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (parent.empty() || fs::exists(parent, ec)) return {};
  fs::create_directories(parent, ec);
  if (ec) {
    return Error::unavailable("cannot create database directory '" + parent.string() +
                              "': " + ec.message());
  }
  fs::permissions(parent, fs::perms::owner_all, fs::perm_options::replace, ec);
  return {};
}

Error open_failure(const std::string& path, const SQLite::Exception& e) {
  const int code = e.getErrorCode() & 0xff;
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
    return Error::internal("database '" + path + "' is corrupt or not a SQLite database (" +
                           e.what() + "); restore it from a backup or move it aside");
  }
  return sqlite::to_error("cannot open database '" + path + "'", e);
}

// The master key check value stored in the database, or "" when there is none yet (a new or
// v1 database). Read before any migration, so a wrong key is refused with nothing changed.
std::string stored_check_value(SQLite::Database& db) {
  if (!db.tableExists("storage_meta")) return "";
  SQLite::Statement st(db, "SELECT value FROM storage_meta WHERE name = 'master_key_check'");
  return st.executeStep() ? st.getColumn(0).getString() : std::string();
}

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<SQLite::Database> db, std::string path)
    : db_(std::move(db)),
      statements_(std::make_unique<sqlite::StatementCache>(*db_)),
      path_(std::move(path)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const MasterKeyOptions& master_key) {
  const bool memory = path == ":memory:";
  bool existed = true;
  if (!memory) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      return Error::invalid("database path '" + path + "' is a directory");
    }
    if (auto made = prepare_directory(path); !made.ok()) return made.error();
    existed = fs::exists(path, ec);
  }
  disable_memory_statistics();
  std::unique_ptr<SQLite::Database> db;
  std::string check;
  try {
    // NOFOLLOW: a symlinked database file is a documented way to corrupt SQLite.
    // NOMUTEX: a Store is used by one thread at a time (store.h), so SQLite's per-call
    // connection mutex only costs (a lock and unlock around every bind and step of a log row).
    const int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX |
                      (memory ? 0 : SQLite::OPEN_NOFOLLOW);
    db = std::make_unique<SQLite::Database>(path, flags);
    if (!memory) {
      std::error_code ec;
      if (!existed) {
        // Before the first write: SQLite gives its -wal/-shm files the database file's mode.
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write,
                        fs::perm_options::replace, ec);
      } else if ((fs::status(path, ec).permissions() & fs::perms::others_read) != fs::perms::none) {
        log::warn("storage: database '" + path + "' is readable by other users; chmod 600 it");
      }
    }
    // busy_timeout first: every later pragma may need a lock another process holds.
    db->setBusyTimeout(kBusyTimeoutMs);
    if (auto id = check_identity(*db, path); !id.ok()) return id.error();
    if (std::string problems = run_check(*db, false); !problems.empty()) {
      return Error::internal("database '" + path + "' failed its integrity check (" + problems +
                             "); restore it from a backup or move it aside");
    }
    std::string mode = db->execAndGet("PRAGMA journal_mode = WAL").getString();
    if (!memory && mode != "wal") {
      log::warn("storage: '" + path + "' could not use WAL (journal_mode=" + mode +
                "); is it on a network filesystem? continuing with rollback journaling");
    }
    db->exec("PRAGMA synchronous = FULL");    // acknowledged writes survive power loss
    db->exec("PRAGMA foreign_keys = ON");     // cooldowns follow their key
    db->exec("PRAGMA secure_delete = FAST");  // zero deleted secrets when it costs no extra I/O
    db->exec("PRAGMA journal_size_limit = 67108864");  // shrink a big WAL back after checkpoints
    db->exec("PRAGMA cache_size = -16384");  // 16 MiB of page cache: indexes of ~1M log rows
    check = stored_check_value(*db);
  } catch (const SQLite::Exception& e) {
    return open_failure(path, e);
  } catch (const std::exception& e) {
    return Error::internal("cannot open database '" + path + "': " + e.what());
  }
  // The key before any change: a missing or wrong key must leave the database as it was.
  auto key = load_master_key(master_key, path, check.empty());
  if (!key.ok()) return key.error();
  auto box = std::make_unique<SecretBox>(key->key);
  if (!check.empty() && !crypto_equal(check, box->check_value())) {
    return Error::invalid("the master key from " + key->source +
                          " is not the key the pool keys in database '" + path +
                          "' were encrypted with; nothing was changed. Start with the original "
                          "key file or GEMGATE_MASTER_KEY");
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db), path));
  store->box_ = std::move(box);
  store->key_source_ = key->source;
  if (auto migrated = store->migrate(); !migrated.ok()) return migrated.error();
  auto sealed = store->seal_clear_keys();
  if (!sealed.ok()) return sealed.error();
  auto settings = store->connection_settings();
  auto version = store->schema_version();
  if (settings.ok() && version.ok()) {
    log::info("storage: opened '" + path + "' (schema v" + std::to_string(*version) +
              ", journal_mode=" + settings->journal_mode +
              ", synchronous=" + std::to_string(settings->synchronous) + ")");
  }
  return store;
}

void SqliteStore::set_busy_timeout(std::chrono::milliseconds timeout) {
  db_->setBusyTimeout(static_cast<int>(timeout.count()));
}

Result<SqliteStore::ConnectionSettings> SqliteStore::connection_settings() {
  return guarded("connection_settings", [&]() -> Result<ConnectionSettings> {
    ConnectionSettings s;
    s.journal_mode = db_->execAndGet("PRAGMA journal_mode").getString();
    s.synchronous = pragma_int(*db_, "synchronous");
    s.foreign_keys = pragma_int(*db_, "foreign_keys") != 0;
    s.busy_timeout_ms = pragma_int(*db_, "busy_timeout");
    return s;
  });
}

Result<int> SqliteStore::schema_version() {
  return guarded("schema_version",
                 [&]() -> Result<int> { return pragma_int(*db_, "user_version"); });
}

Result<void> SqliteStore::migrate() {
  // Foreign keys off while steps run (a pragma that is a no-op inside a transaction): v2
  // rebuilds `keys`, and dropping the old table must not cascade into key_cooldowns. Each step
  // checks the references itself before it commits.
  db_->tryExec("PRAGMA foreign_keys = OFF");
  auto result = migrate_steps();
  db_->tryExec("PRAGMA foreign_keys = ON");
  return result;
}

Result<void> SqliteStore::migrate_steps() {
  return guarded("migrate", [&]() -> Result<void> {
    const int latest = sqlite::latest_schema_version();
    for (const sqlite::Migration& step : sqlite::migrations()) {
      WriteTx tx(*db_);
      // Read inside the write lock: another process may have migrated meanwhile.
      const int current = pragma_int(*db_, "user_version");
      if (current > latest) {
        return Error::invalid("database '" + path_ + "' has schema version " +
                              std::to_string(current) + ", newer than this build supports (" +
                              std::to_string(latest) +
                              "); upgrade gemgate or restore a backup taken by this version");
      }
      if (step.version <= current) continue;
      if (step.version != current + 1) {
        return Error::internal("migration " + std::to_string(step.version) + " follows version " +
                               std::to_string(current) + ": the migration list has a gap");
      }
      db_->exec(step.sql);
      {
        SQLite::Statement fk(*db_, "PRAGMA foreign_key_check");
        if (fk.executeStep()) {
          return Error::internal("migration " + std::to_string(step.version) +
                                 " left a dangling reference in table " +
                                 fk.getColumn(0).getString() + "; nothing was changed");
        }
      }
      db_->exec("PRAGMA application_id = " + std::to_string(sqlite::kApplicationId));
      db_->exec("PRAGMA user_version = " + std::to_string(step.version));
      tx.commit();
      log::info("storage: applied schema migration " + std::to_string(step.version) + " (" +
                step.name + ")");
    }
    return {};
  });
}

Result<std::int64_t> SqliteStore::seal_clear_keys() {
  auto sealed = guarded("seal keys", [&]() -> Result<std::int64_t> {
    WriteTx tx(*db_);
    SQLite::Statement meta(*db_,
                           "INSERT OR IGNORE INTO storage_meta (name, value) "
                           "VALUES ('master_key_check', ?)");
    meta.bind(1, box_->check_value());
    meta.exec();
    std::vector<std::pair<std::int64_t, std::string>> clear;
    {
      SQLite::Statement st(*db_, "SELECT id, plain FROM keys WHERE plain IS NOT NULL");
      while (st.executeStep())
        clear.emplace_back(st.getColumn(0).getInt64(), st.getColumn(1).getString());
    }
    SQLite::Statement upd(*db_,
                          "UPDATE keys SET fingerprint = ?, sealed = ?, plain = NULL WHERE id = ?");
    for (auto& [id, secret] : clear) {
      const std::string fp = box_->fingerprint(secret);
      const std::string blob = box_->seal(secret, sqlite::key_aad(fp));
      upd.bind(1, fp);
      upd.bind(2, blob.data(), static_cast<int>(blob.size()));
      upd.bind(3, id);
      upd.exec();
      upd.reset();
      std::fill(secret.begin(), secret.end(), '\0');
    }
    tx.commit();
    return static_cast<std::int64_t>(clear.size());
  });
  if (!sealed.ok() || *sealed == 0) return sealed;
  // The clear values are still in freed pages and in WAL frames of the migration: rebuild the
  // file and empty the WAL so no copy remains on disk. Once per database, at the upgrade.
  auto scrubbed = guarded("scrub clear keys", [&]() -> Result<std::int64_t> {
    db_->exec("PRAGMA secure_delete = ON");
    db_->exec("VACUUM");
    db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db_->exec("PRAGMA secure_delete = FAST");
    return *sealed;
  });
  if (!scrubbed.ok()) {
    log::warn("storage: keys were encrypted, but scrubbing their clear copies failed (" +
              scrubbed.error().message + "); run VACUUM on the database");
  }
  log::info("storage: encrypted " + std::to_string(*sealed) +
            " pool key(s) stored in clear by an "
            "older version (master key from " +
            key_source_ + ")");
  return sealed;
}

Result<void> SqliteStore::check_integrity(bool full) {
  return guarded("check_integrity", [&]() -> Result<void> {
    std::string problems = run_check(*db_, full);
    if (problems.empty()) return {};
    return Error::internal("database '" + path_ + "' failed its integrity check (" + problems +
                           ")");
  });
}

Result<std::int64_t> SqliteStore::delete_by_ids(const char* table,
                                                const std::vector<std::int64_t>& ids) {
  return guarded(std::string("delete from ") + table, [&]() -> Result<std::int64_t> {
    std::int64_t deleted = 0;
    WriteTx tx(*db_);
    for (const auto& chunk : sqlite::chunk_ids(ids)) {
      SQLite::Statement st(*db_, std::string("DELETE FROM ") + table + " WHERE id IN (" +
                                     sqlite::placeholders(chunk.size()) + ")");
      for (std::size_t i = 0; i < chunk.size(); ++i) st.bind(static_cast<int>(i + 1), chunk[i]);
      deleted += st.exec();
    }
    tx.commit();
    return deleted;
  });
}

Result<std::int64_t> SqliteStore::delete_where(const char* table, const SqlWhere& where) {
  return guarded(std::string("delete from ") + table, [&]() -> Result<std::int64_t> {
    if (where.sql.empty()) {  // everything: one statement, SQLite's fast truncate path
      WriteTx tx(*db_);
      std::int64_t deleted = db_->exec(std::string("DELETE FROM ") + table);
      tx.commit();
      return deleted;
    }
    const std::string sql = std::string("DELETE FROM ") + table + " WHERE id IN (SELECT id FROM " +
                            table + where.sql + " LIMIT " + std::to_string(kDeleteChunk) + ")";
    std::int64_t deleted = 0;
    for (;;) {
      WriteTx tx(*db_);
      SQLite::Statement st(*db_, sql);
      sqlite::bind_args(st, where.args);
      const int n = st.exec();
      tx.commit();
      deleted += n;
      if (n < kDeleteChunk) return deleted;
    }
  });
}

}  // namespace gemgate::storage
