// open_store(): DATABASE_URL → a ready Store.
#include "storage/open_store.h"

#include "storage/database_url.h"
#include "storage/sqlite/sqlite_store.h"

namespace gemgate::storage {

Result<void> check_database_url(std::string_view database_url) {
  auto url = parse_database_url(database_url);
  if (!url.ok()) return url.error();
  if (url->kind == DatabaseKind::kPostgres) {
    return Error::invalid(
        "PostgreSQL (postgres://, postgresql://) is not supported by this build; use a SQLite "
        "DATABASE_URL such as file:./data/gemgate.db");
  }
  return {};
}

Result<std::unique_ptr<Store>> open_store(std::string_view database_url,
                                          const MasterKeyOptions& master_key) {
  if (auto checked = check_database_url(database_url); !checked.ok()) return checked.error();
  auto url = parse_database_url(database_url);
  switch (url->kind) {
    case DatabaseKind::kPostgres:
      return Error::internal("unreachable: refused by check_database_url");
    case DatabaseKind::kSqlite: {
      auto store = SqliteStore::open(url->path, master_key);
      if (!store.ok()) return store.error();
      return std::unique_ptr<Store>(std::move(store).value());
    }
  }
  return Error::internal("unknown database kind");
}

}  // namespace gemgate::storage
