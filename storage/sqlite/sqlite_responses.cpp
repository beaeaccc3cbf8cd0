// SqliteStore: stored responses of the OpenAI Responses front, scoped to their client token.
#include <SQLiteCpp/SQLiteCpp.h>

#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::WriteTx;

Result<void> SqliteStore::put_response(const StoredResponse& row) {
  if (row.id.empty() || row.id.size() > kMaxStoredResponseIdLength) {
    return Error::invalid("stored response id must be 1 to 128 characters");
  }
  if (row.data.size() > kMaxStoredResponseBytes) {
    return Error::invalid("stored response is over " +
                          std::to_string(kMaxStoredResponseBytes >> 20) + " MiB");
  }
  return guarded("put_response", [&]() -> Result<void> {
    WriteTx tx(*db_);
    SQLite::Statement check(*db_, "SELECT json_valid(?)");
    check.bind(1, row.data);
    if (!check.executeStep() || check.getColumn(0).getInt() != 1) {
      return Error::invalid("stored response data is not JSON");
    }
    SQLite::Statement st(*db_,
                         "INSERT OR REPLACE INTO stored_responses (id, token_id, created_at, "
                         "expires_at, data) VALUES (?, ?, ?, ?, ?)");
    st.bind(1, row.id);
    st.bind(2, row.token_id);
    st.bind(3, row.created_at);
    st.bind(4, row.expires_at);
    st.bind(5, row.data);
    st.exec();
    tx.commit();
    return {};
  });
}

Result<std::optional<StoredResponse>> SqliteStore::find_response(std::string_view id,
                                                                 std::int64_t token_id,
                                                                 Millis now_ms) {
  return guarded("find_response", [&]() -> Result<std::optional<StoredResponse>> {
    SQLite::Statement st(*db_,
                         "SELECT id, token_id, created_at, expires_at, data FROM "
                         "stored_responses WHERE id = ? AND token_id = ? AND expires_at > ?");
    st.bind(1, std::string(id));
    st.bind(2, token_id);
    st.bind(3, now_ms);
    if (!st.executeStep()) return std::optional<StoredResponse>();
    StoredResponse r;
    r.id = st.getColumn(0).getString();
    r.token_id = st.getColumn(1).getInt64();
    r.created_at = st.getColumn(2).getInt64();
    r.expires_at = st.getColumn(3).getInt64();
    r.data = st.getColumn(4).getString();
    return std::optional<StoredResponse>(std::move(r));
  });
}

Result<bool> SqliteStore::delete_response(std::string_view id, std::int64_t token_id) {
  return guarded("delete_response", [&]() -> Result<bool> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_, "DELETE FROM stored_responses WHERE id = ? AND token_id = ?");
    st.bind(1, std::string(id));
    st.bind(2, token_id);
    const int n = st.exec();
    tx.commit();
    return n > 0;
  });
}

Result<std::int64_t> SqliteStore::prune_responses(Millis now_ms) {
  return guarded("prune_responses", [&]() -> Result<std::int64_t> {
    WriteTx tx(*db_);
    SQLite::Statement st(*db_, "DELETE FROM stored_responses WHERE expires_at <= ?");
    st.bind(1, now_ms);
    const std::int64_t n = st.exec();
    tx.commit();
    return n;
  });
}

}  // namespace gemgate::storage
