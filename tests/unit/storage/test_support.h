// Shared helpers for the storage tests: a temporary directory removed afterwards, and opening a
// store in it with the test failing loudly if that does not work. The tests that only use the
// Store interface open it with open_test_store(): SQLite, or PostgreSQL when the environment
// names the test server (GEMGATE_TEST_POSTGRES = the url file tests/support/pg-server.sh
// writes; CTest's unit-pg.storage sets it). Tests about SQLite itself stay in the doctest
// suite "sqlite-only", which the PostgreSQL run excludes.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "core/crypto.h"
#include "core/log.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace gemgate::storage::testing {

// Keeps the per-open INFO lines out of the test output; warnings and errors still show.
inline const bool kQuietLogs = (log::set_level(log::Level::kWarn), true);

// A fresh directory under $TMPDIR (or /tmp), deleted with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/gemgate-storage-XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Opens (creating) a SqliteStore; fails the test with the error message otherwise.
inline std::unique_ptr<SqliteStore> open_sqlite(const std::string& path) {
  auto store = SqliteStore::open(path);
  INFO((store.ok() ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

// The test server's base URL ("postgresql://user:pw@127.0.0.1:port/"), or "" for SQLite runs.
inline std::string postgres_base_url() {
  const char* file = std::getenv("GEMGATE_TEST_POSTGRES");
  if (file == nullptr || *file == '\0') return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  REQUIRE_MESSAGE(!url.empty(), "GEMGATE_TEST_POSTGRES names no url file (is the server up?)");
  return url;
}

inline bool testing_postgres() {
  return !postgres_base_url().empty();
}

// The schema a test path maps to: the same path, the same schema (a test that reopens its
// "file" reopens its data). Tests share one database, gemgate_unit, each in its own schema
// (a schema costs a catalog row; a database a 7 MB copy): the URL sets search_path. The first
// use in this process drops a leftover of that name (a temp dir name can repeat) and creates
// it afresh.
inline std::string postgres_schema_for(const std::string& path) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : path) h = (h ^ c) * 1099511628211ull;
  static const char* kHex = "0123456789abcdef";
  std::string name = "gg_";
  for (int i = 60; i >= 0; i -= 4) name += kHex[(h >> i) & 0xf];
  return name;
}

// Creates database `name` on the test server unless it exists; returns its URL.
inline std::string postgres_database_url(const std::string& name) {
  const std::string base = postgres_base_url();
  auto admin = pg::Connection::open(base + "postgres");
  REQUIRE_MESSAGE(admin.ok(), admin.error().message);
  auto made = (*admin)->exec_script("CREATE DATABASE " + name + " TEMPLATE template0");
  // Another test process may have created it a moment ago.
  const bool exists =
      !made.ok() && made.error().message.find("already exists") != std::string::npos;
  REQUIRE_MESSAGE((made.ok() || exists), (made.ok() ? std::string() : made.error().message));
  return base + name;
}

inline std::string postgres_url_for(const std::string& path) {
  static const std::string database = postgres_database_url("gemgate_unit");
  const std::string schema = postgres_schema_for(path);
  static std::set<std::string> created;
  if (created.insert(schema).second) {
    auto conn = pg::Connection::open(database);
    REQUIRE_MESSAGE(conn.ok(), conn.error().message);
    auto dropped = (*conn)->exec_script("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    REQUIRE_MESSAGE(dropped.ok(), dropped.error().message);
    auto made = (*conn)->exec_script("CREATE SCHEMA " + schema);
    REQUIRE_MESSAGE(made.ok(), made.error().message);
  }
  return database + "?options=-csearch_path%3D" + schema;
}

// The master key options of a test store at `path`: the key file beside it, as SQLite does.
inline MasterKeyOptions test_master_key(const std::string& path) {
  MasterKeyOptions options;
  options.file = (std::filesystem::path(path).parent_path() / "master.key").string();
  return options;
}

// Opens (creating) the store of this run's backend for `path`; fails the test otherwise.
// ":memory:" gets a fresh database (and a random master key) at every call, as in SQLite.
inline std::unique_ptr<Store> open_test_store(const std::string& path) {
  if (!testing_postgres()) return open_sqlite(path);
  static int memory_databases = 0;
  std::string key_path = path;
  MasterKeyOptions key = test_master_key(path);
  if (path == ":memory:") {
    key_path = ":memory:#" + std::to_string(++memory_databases);
    key.file.clear();
    key.env_value = crypto::sha256_hex(crypto::random_token("", 32));
  }
  auto store = PgStore::open(postgres_url_for(key_path), key);
  INFO((store.ok() ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

// `SELECT count(*) FROM table` straight from the database of `path` (not through the Store), on
// whichever backend this run uses.
inline std::int64_t count_rows(const std::string& path, const std::string& table) {
  const std::string sql = "SELECT count(*) FROM " + table;
  if (!testing_postgres()) {
    SQLite::Database raw(path);
    return raw.execAndGet(sql).getInt64();
  }
  auto conn = pg::Connection::open(postgres_url_for(path));
  REQUIRE_MESSAGE(conn.ok(), conn.error().message);
  auto rows = (*conn)->exec(sql);
  REQUIRE_MESSAGE(rows.ok(), rows.error().message);
  return rows->i64(0, 0);
}

// A 39-character key shaped like a real Gemini key, distinct per n.
inline std::string fake_key(int n) {
  std::string digits = std::to_string(n);
  return "AIzaSy" + std::string(33 - digits.size(), 'x') + digits;
}

// A 64-character lowercase hex string, distinct per n (stands in for a SHA-256).
inline std::string fake_sha256(int n) {
  static const char* kHex = "0123456789abcdef";
  std::string s(64, '0');
  unsigned v = static_cast<unsigned>(n) * 2654435761u + 1;
  for (int i = 63; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kHex[(v >> ((i % 8) * 4)) & 0xf];
    if (i % 8 == 0) v = v * 1103515245u + 12345u;
  }
  return s;
}

}  // namespace gemgate::storage::testing
