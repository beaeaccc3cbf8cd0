// PgStore: stored responses of the OpenAI Responses front, scoped to their client token.
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"
#include "storage/postgres/pg_util.h"

namespace gemgate::storage {

using pg::arg;

Result<void> PgStore::put_response(const StoredResponse& row) {
  if (row.id.empty() || row.id.size() > kMaxStoredResponseIdLength) {
    return Error::invalid("stored response id must be 1 to 128 characters");
  }
  if (row.data.size() > kMaxStoredResponseBytes) {
    return Error::invalid("stored response is over " +
                          std::to_string(kMaxStoredResponseBytes >> 20) + " MiB");
  }
  auto put = db_->exec(
      "INSERT INTO stored_responses (id, token_id, created_at, expires_at, data) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET token_id = excluded.token_id, "
      "created_at = excluded.created_at, expires_at = excluded.expires_at, data = excluded.data",
      {arg(row.id), arg(row.token_id), arg(row.created_at), arg(row.expires_at), arg(row.data)});
  if (!put.ok()) {
    if (put.error().code == ErrorCode::kInvalidArgument) {
      return Error::invalid("stored response data is not JSON");
    }
    return put.error();
  }
  return {};
}

Result<std::optional<StoredResponse>> PgStore::find_response(std::string_view id,
                                                             std::int64_t token_id, Millis now_ms) {
  PG_LET(rows, db_->exec("SELECT id, token_id, created_at, expires_at, data FROM "
                         "stored_responses WHERE id = $1 AND token_id = $2 AND expires_at > $3",
                         {arg(id), arg(token_id), arg(now_ms)}));
  if (rows.size() == 0) return std::optional<StoredResponse>();
  StoredResponse r;
  r.id = rows.text(0, 0);
  r.token_id = rows.i64(0, 1);
  r.created_at = rows.i64(0, 2);
  r.expires_at = rows.i64(0, 3);
  r.data = rows.text(0, 4);
  return std::optional<StoredResponse>(std::move(r));
}

Result<bool> PgStore::delete_response(std::string_view id, std::int64_t token_id) {
  PG_LET(del, db_->exec("DELETE FROM stored_responses WHERE id = $1 AND token_id = $2",
                        {arg(id), arg(token_id)}));
  return del.affected() > 0;
}

Result<std::int64_t> PgStore::prune_responses(Millis now_ms) {
  PG_LET(del, db_->exec("DELETE FROM stored_responses WHERE expires_at <= $1", {arg(now_ms)}));
  return del.affected();
}

}  // namespace gemgate::storage
