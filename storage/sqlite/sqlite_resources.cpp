// SqliteStore: resource affinity — the pool key and client token of each created resource.
#include <SQLiteCpp/SQLiteCpp.h>

#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::WriteTx;

namespace {

constexpr const char* kColumns = "name, key_id, token_id, kind, created_at, expires_at";

ResourceOwner read_owner(SQLite::Statement& st) {
  ResourceOwner r;
  r.name = st.getColumn(0).getString();
  r.key_id = st.getColumn(1).getInt64();
  r.token_id = st.getColumn(2).getInt64();
  r.kind = st.getColumn(3).getString();
  r.created_at = st.getColumn(4).getInt64();
  r.expires_at = st.getColumn(5).getInt64();
  return r;
}

}  // namespace

Result<void> SqliteStore::put_resource(const ResourceOwner& row) {
  if (row.name.empty() || row.name.size() > kMaxResourceNameLength) {
    return Error::invalid("resource name must be 1 to 512 characters");
  }
  if (row.kind.empty() || row.kind.size() > 64) {
    return Error::invalid("resource kind must be 1 to 64 characters");
  }
  return guarded("put_resource", [&]() -> Result<void> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_, std::string("INSERT OR REPLACE INTO resource_owners (") + kColumns +
                                   ") VALUES (?, ?, ?, ?, ?, ?)");
    st.bind(1, row.name);
    st.bind(2, row.key_id);
    st.bind(3, row.token_id);
    st.bind(4, row.kind);
    st.bind(5, row.created_at);
    st.bind(6, row.expires_at);
    st.exec();
    tx.commit();
    return {};
  });
}

Result<std::optional<ResourceOwner>> SqliteStore::find_resource(std::string_view name,
                                                                Millis now_ms) {
  return guarded("find_resource", [&]() -> Result<std::optional<ResourceOwner>> {
    SQLite::Statement st(*db_, std::string("SELECT ") + kColumns +
                                   " FROM resource_owners WHERE name = ? AND expires_at > ?");
    st.bind(1, std::string(name));
    st.bind(2, now_ms);
    if (!st.executeStep()) return std::optional<ResourceOwner>();
    return std::optional<ResourceOwner>(read_owner(st));
  });
}

Result<std::vector<ResourceOwner>> SqliteStore::load_resources(Millis now_ms) {
  return guarded("load_resources", [&]() -> Result<std::vector<ResourceOwner>> {
    SQLite::Statement st(*db_, std::string("SELECT ") + kColumns +
                                   " FROM resource_owners WHERE expires_at > ? "
                                   "ORDER BY created_at, name");
    st.bind(1, now_ms);
    std::vector<ResourceOwner> rows;
    while (st.executeStep()) rows.push_back(read_owner(st));
    return rows;
  });
}

Result<bool> SqliteStore::delete_resource(std::string_view name) {
  return guarded("delete_resource", [&]() -> Result<bool> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_, "DELETE FROM resource_owners WHERE name = ?");
    st.bind(1, std::string(name));
    const int n = st.exec();
    tx.commit();
    return n > 0;
  });
}

Result<std::int64_t> SqliteStore::prune_resources(Millis now_ms) {
  return guarded("prune_resources", [&]() -> Result<std::int64_t> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_, "DELETE FROM resource_owners WHERE expires_at <= ?");
    st.bind(1, now_ms);
    const std::int64_t n = st.exec();
    tx.commit();
    return n;
  });
}

}  // namespace gemgate::storage
