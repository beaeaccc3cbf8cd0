// Opening a database: migrations, durability pragmas, and refusing files we must not touch.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fstream>
#include <string>
#include <vector>

#include "storage/sqlite/schema.h"
#include "test_support.h"

namespace gemgate::storage {
namespace {

// About the SQLite file itself (PostgreSQL: postgres/pg_store_test.cpp).
TEST_SUITE_BEGIN("sqlite-only");

using testing::open_sqlite;
using testing::TempDir;

TEST_CASE("migrations: the list is ordered with no gaps") {
  const auto& steps = sqlite::migrations();
  REQUIRE_FALSE(steps.empty());
  for (std::size_t i = 0; i < steps.size(); ++i) CHECK(steps[i].version == static_cast<int>(i) + 1);
  CHECK(sqlite::latest_schema_version() == steps.back().version);
}

TEST_CASE("migrations: a fresh file reaches the latest version; running again is a no-op") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  {
    auto store = open_sqlite(path);
    CHECK(store->schema_version().value() == sqlite::latest_schema_version());
    REQUIRE(store->add_keys({testing::fake_key(1)}, 1000).ok());
    REQUIRE(store->migrate().ok());
    REQUIRE(store->migrate().ok());
    CHECK(store->schema_version().value() == sqlite::latest_schema_version());
  }
  auto again = open_sqlite(path);  // open migrates too
  CHECK(again->schema_version().value() == sqlite::latest_schema_version());
  CHECK(again->load_keys().value().size() == 1);

  SQLite::Database raw(path);
  CHECK(raw.execAndGet("PRAGMA application_id").getInt() == sqlite::kApplicationId);
}

TEST_CASE(
    "migrations: a v3 database migrates to the latest (v6 adds request_id), old request log rows, "
    "'' for old ones") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  {
    // A v3 database with one logged request, built from the first three steps.
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& step : sqlite::migrations()) {
      if (step.version > 3) break;
      raw.exec(step.sql);
    }
    raw.exec("PRAGMA application_id = " + std::to_string(sqlite::kApplicationId));
    raw.exec("PRAGMA user_version = 3");
    raw.exec(
        "INSERT INTO request_log (time_ms, route, method, path, model, status, latency_ms, "
        "attempts, stream, prompt_tokens, completion_tokens, thoughts_tokens, cached_tokens, "
        "total_tokens, error) VALUES (1000, 'gemini', 'POST', '/v1beta/x', 'm', 200, 5, 1, 0, 0, "
        "0, 0, 0, 0, '')");
  }
  auto store = open_sqlite(path);
  CHECK(store->schema_version().value() == sqlite::latest_schema_version());
  auto page = store->query_request_logs({}, {}).value();
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0].request_id.empty());
  CHECK(page.items[0].path == "/v1beta/x");
}

TEST_CASE("migrations: v11 drops the request-id index of a v9 database; its rows stay") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  auto index_count = [&] {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    return raw
        .execAndGet(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = "
            "'request_log_by_request_id'")
        .getInt();
  };
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& step : sqlite::migrations()) {
      if (step.version > 9) break;
      raw.exec(step.sql);
    }
    raw.exec("PRAGMA application_id = " + std::to_string(sqlite::kApplicationId));
    raw.exec("PRAGMA user_version = 9");
    raw.exec(
        "INSERT INTO request_log (time_ms, route, method, path, model, status, latency_ms, "
        "attempts, stream, prompt_tokens, completion_tokens, thoughts_tokens, cached_tokens, "
        "total_tokens, error, request_id) VALUES (1000, 'gemini', 'POST', '/v1beta/x', 'm', 200, "
        "5, 1, 0, 0, 0, 0, 0, 0, '', 'req-0000000000000001')");
  }
  REQUIRE(index_count() == 1);
  {
    auto store = open_sqlite(path);
    CHECK(store->schema_version().value() == sqlite::latest_schema_version());
    auto page = store->query_request_logs({}, {}).value();
    REQUIRE(page.items.size() == 1);
    CHECK(page.items[0].request_id == "req-0000000000000001");
  }
  CHECK(index_count() == 0);
}

TEST_CASE("migrations: the change feed's triggers exist at the latest version, one per change") {
  // A migration that rebuilds a watched table drops its triggers without a word; the group's
  // change feed would then see nothing but the 5 s re-read. This list is the contract.
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  open_sqlite(path);
  SQLite::Database raw(path);
  SQLite::Statement st(raw,
                       "SELECT tbl_name || ':' || name FROM sqlite_master WHERE type = 'trigger' "
                       "ORDER BY tbl_name, name");
  std::vector<std::string> triggers;
  while (st.executeStep()) triggers.push_back(st.getColumn(0).getString());
  CHECK(triggers ==
        std::vector<std::string>{"client_tokens:tokens_added", "client_tokens:tokens_deleted",
                                 "client_tokens:tokens_edited", "key_cooldowns:key_cooldown_added",
                                 "key_cooldowns:key_cooldown_extended", "keys:key_health_decided",
                                 "keys:keys_added", "keys:keys_deleted", "keys:keys_edited",
                                 "settings:settings_added", "settings:settings_deleted",
                                 "settings:settings_edited"});
}

TEST_CASE("migrations: a database from a newer gemgate is refused, untouched") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  { open_sqlite(path); }
  const int newer = sqlite::latest_schema_version() + 3;
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = " + std::to_string(newer));
  }
  auto store = SqliteStore::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().message.find("newer than this build supports") != std::string::npos);
  SQLite::Database raw(path);
  CHECK(raw.execAndGet("PRAGMA user_version").getInt() == newer);
}

TEST_CASE("open: durability settings are WAL, synchronous=FULL, foreign keys on, busy 5 s") {
  TempDir dir;
  auto store = open_sqlite(dir.file("gemgate.db"));
  auto s = store->connection_settings();
  REQUIRE(s.ok());
  CHECK(s->journal_mode == "wal");
  CHECK(s->synchronous == 2);
  CHECK(s->foreign_keys);
  CHECK(s->busy_timeout_ms == 5000);
}

TEST_CASE("open: in-memory databases work (for other folders' tests)") {
  auto store = open_sqlite(":memory:");
  CHECK(store->schema_version().value() == sqlite::latest_schema_version());
  CHECK(store->add_keys({testing::fake_key(7)}, 1).value().added_ids.size() == 1);
}

TEST_CASE("open: a file that is not a SQLite database is refused with a clear message") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out << "this is not a database ";
  }
  auto store = SqliteStore::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().message.find("corrupt or not a SQLite database") != std::string::npos);
  CHECK(store.error().message.find(path) != std::string::npos);
}

TEST_CASE("open: a database with damaged pages fails quick_check and is refused") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  {
    auto store = open_sqlite(path);
    std::vector<std::string> keys;
    for (int i = 0; i < 3000; ++i) keys.push_back(testing::fake_key(i));
    REQUIRE(store->add_keys(keys, 1).ok());
  }  // closing the last connection checkpoints the WAL into the file
  const auto size = std::filesystem::file_size(path);
  REQUIRE(size > 64 * 1024);
  {
    // Scribble over the middle of the file, leaving the header page intact.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    std::string junk(16384, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto store = SqliteStore::open(path);
  REQUIRE_FALSE(store.ok());
  const std::string& m = store.error().message;
  CHECK((m.find("integrity check") != std::string::npos || m.find("corrupt") != std::string::npos));
  CHECK(m.find("AIza") == std::string::npos);  // no key text in the error
}

TEST_CASE("open: another program's SQLite file is refused, not migrated into") {
  TempDir dir;
  SUBCASE("tables but no application id") {
    const std::string path = dir.file("other.db");
    {
      SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      raw.exec("CREATE TABLE t_settings (id INTEGER PRIMARY KEY, value TEXT)");
    }
    auto store = SqliteStore::open(path);
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().message.find("not a gemgate database") != std::string::npos);
  }
  SUBCASE("a foreign application id") {
    const std::string path = dir.file("foreign.db");
    {
      SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      raw.exec("PRAGMA application_id = 1234");
    }
    auto store = SqliteStore::open(path);
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().message.find("another application") != std::string::npos);
  }
}

TEST_CASE("check_integrity: ok on a healthy database, quick and full") {
  TempDir dir;
  auto store = open_sqlite(dir.file("gemgate.db"));
  CHECK(store->check_integrity(false).ok());
  CHECK(store->check_integrity(true).ok());
}

TEST_SUITE_END();

}  // namespace
}  // namespace gemgate::storage
