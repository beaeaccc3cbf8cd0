// open_store(): DATABASE_URL → a ready Store.
#include "storage/open_store.h"

#include "storage/database_url.h"
#include "storage/sqlite/sqlite_store.h"

namespace gemgate::storage {

Result<std::unique_ptr<Store>> open_store(std::string_view database_url,
                                          const MasterKeyOptions& master_key) {
  auto url = parse_database_url(database_url);
  if (!url.ok()) return url.error();
  switch (url->kind) {
    case DatabaseKind::kPostgres:
      return Error::invalid(
          "PostgreSQL support is not built in yet; use a SQLite DATABASE_URL such as "
          "file:./data/gemgate.db");
    case DatabaseKind::kSqlite: {
      auto store = SqliteStore::open(url->path, master_key);
      if (!store.ok()) return store.error();
      return std::unique_ptr<Store>(std::move(store).value());
    }
  }
  return Error::internal("unknown database kind");
}

}  // namespace gemgate::storage
