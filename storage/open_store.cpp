// open_store(): DATABASE_URL → a ready Store.
#include "storage/open_store.h"

#include <libpq-fe.h>

#include "storage/database_url.h"
#include "storage/postgres/pg_change_feed.h"
#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_change_feed.h"
#include "storage/sqlite/sqlite_store.h"

namespace gemgate::storage {

Result<void> check_database_url(std::string_view database_url) {
  auto url = parse_database_url(database_url);
  if (!url.ok()) return url.error();
  if (url->kind == DatabaseKind::kPostgres) {
    char* err = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url->conninfo.c_str(), &err);
    if (parsed == nullptr) {
      if (err != nullptr) PQfreemem(err);  // libpq's message may quote the password
      return Error::invalid(
          "DATABASE_URL is not a valid PostgreSQL connection string (postgres://user:pass@host:"
          "port/db?sslmode=… or key=value pairs such as host=… dbname=…)");
    }
    PQconninfoFree(parsed);
  }
  return {};
}

Result<std::unique_ptr<Store>> open_store(std::string_view database_url,
                                          const MasterKeyOptions& master_key) {
  if (auto checked = check_database_url(database_url); !checked.ok()) return checked.error();
  auto url = parse_database_url(database_url);
  switch (url->kind) {
    case DatabaseKind::kPostgres: {
      auto store = PgStore::open(url->conninfo, master_key);
      if (!store.ok()) return store.error();
      return std::unique_ptr<Store>(std::move(store).value());
    }
    case DatabaseKind::kSqlite: {
      auto store = SqliteStore::open(url->path, master_key);
      if (!store.ok()) return store.error();
      return std::unique_ptr<Store>(std::move(store).value());
    }
  }
  return Error::internal("unknown database kind");
}

Result<std::unique_ptr<ChangeFeed>> open_change_feed(std::string_view database_url) {
  if (auto checked = check_database_url(database_url); !checked.ok()) return checked.error();
  auto url = parse_database_url(database_url);
  switch (url->kind) {
    case DatabaseKind::kPostgres:
      return std::unique_ptr<ChangeFeed>(std::make_unique<PgChangeFeed>(url->conninfo));
    case DatabaseKind::kSqlite:
      if (url->path == ":memory:") return std::unique_ptr<ChangeFeed>();
      return std::unique_ptr<ChangeFeed>(std::make_unique<SqliteChangeFeed>(url->path));
  }
  return Error::internal("unknown database kind");
}

}  // namespace gemgate::storage
