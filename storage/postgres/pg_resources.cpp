// PgStore: resource affinity — the pool key and client token of each created resource.
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"
#include "storage/postgres/pg_util.h"

namespace gemgate::storage {

using pg::arg;

namespace {

constexpr const char* kColumns = "name, key_id, token_id, kind, created_at, expires_at";

ResourceOwner read_owner(const pg::Rows& rows, int i) {
  ResourceOwner r;
  r.name = rows.text(i, 0);
  r.key_id = rows.i64(i, 1);
  r.token_id = rows.i64(i, 2);
  r.kind = rows.text(i, 3);
  r.created_at = rows.i64(i, 4);
  r.expires_at = rows.i64(i, 5);
  return r;
}

}  // namespace

Result<void> PgStore::put_resource(const ResourceOwner& row) {
  if (row.name.empty() || row.name.size() > kMaxResourceNameLength) {
    return Error::invalid("resource name must be 1 to 512 characters");
  }
  if (row.kind.empty() || row.kind.size() > 64) {
    return Error::invalid("resource kind must be 1 to 64 characters");
  }
  PG_LET(put, db_->exec(std::string("INSERT INTO resource_owners (") + kColumns +
                            ") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET "
                            "key_id = excluded.key_id, token_id = excluded.token_id, "
                            "kind = excluded.kind, created_at = excluded.created_at, "
                            "expires_at = excluded.expires_at",
                        {arg(row.name), arg(row.key_id), arg(row.token_id), arg(row.kind),
                         arg(row.created_at), arg(row.expires_at)}));
  (void)put;
  return {};
}

Result<std::optional<ResourceOwner>> PgStore::find_resource(std::string_view name, Millis now_ms) {
  PG_LET(rows, db_->exec(std::string("SELECT ") + kColumns +
                             " FROM resource_owners WHERE name = $1 AND expires_at > $2",
                         {arg(name), arg(now_ms)}));
  if (rows.size() == 0) return std::optional<ResourceOwner>();
  return std::optional<ResourceOwner>(read_owner(rows, 0));
}

Result<std::vector<ResourceOwner>> PgStore::load_resources(Millis now_ms) {
  PG_LET(rows,
         db_->exec(std::string("SELECT ") + kColumns +
                       " FROM resource_owners WHERE expires_at > $1 ORDER BY created_at, name",
                   {arg(now_ms)}));
  std::vector<ResourceOwner> out;
  out.reserve(rows.size());
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_owner(rows, i));
  return out;
}

Result<bool> PgStore::delete_resource(std::string_view name) {
  PG_LET(del, db_->exec("DELETE FROM resource_owners WHERE name = $1", {arg(name)}));
  return del.affected() > 0;
}

Result<std::int64_t> PgStore::prune_resources(Millis now_ms) {
  PG_LET(del, db_->exec("DELETE FROM resource_owners WHERE expires_at <= $1", {arg(now_ms)}));
  return del.affected();
}

}  // namespace gemgate::storage
