// SqliteStore: request and error logs — batched appends, filtered newest-first pages, deletes
// and retention. Log writes always run in their own transactions, never with key/settings ones.
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <cstdint>
#include <sqlite3.h>

#include "core/log.h"
#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/usage_rollup.h"
#include "storage/validate.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::ReadTx;
using sqlite::SqlWhere;
using sqlite::WriteTx;

namespace {

constexpr const char* kRequestColumns =
    "id, time_ms, route, method, path, model, key_id, token_id, status, latency_ms, attempts, "
    "stream, prompt_tokens, completion_tokens, thoughts_tokens, cached_tokens, total_tokens, "
    "error, "
    "request_id, instance_id, "
    "(SELECT group_concat(key_id) FROM request_log_failed_keys f WHERE f.log_id = request_log.id)";
constexpr const char* kErrorColumns =
    "id, time_ms, key_id, model, status, kind, message, route, instance_id";

// "3,7,12" (group_concat of ids) → {3, 7, 12}, sorted; anything else is skipped.
std::vector<std::int64_t> parse_id_list(const std::string& text) {
  std::vector<std::int64_t> ids;
  std::int64_t v = 0;
  bool digits = false;
  for (char c : text + ",") {
    if (c >= '0' && c <= '9' && v < (INT64_MAX - 9) / 10) {
      v = v * 10 + (c - '0');
      digits = true;
    } else if (c == ',') {
      if (digits) ids.push_back(v);
      v = 0;
      digits = false;
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

RequestLogRow read_request_row(SQLite::Statement& st) {
  RequestLogRow r;
  r.id = st.getColumn(0).getInt64();
  r.time_ms = st.getColumn(1).getInt64();
  r.route = st.getColumn(2).getString();
  r.method = st.getColumn(3).getString();
  r.path = st.getColumn(4).getString();
  r.model = st.getColumn(5).getString();
  r.key_id = sqlite::column_optional(st.getColumn(6));
  r.token_id = sqlite::column_optional(st.getColumn(7));
  r.status = st.getColumn(8).getInt();
  r.latency_ms = st.getColumn(9).getInt64();
  r.attempts = st.getColumn(10).getInt();
  r.stream = st.getColumn(11).getInt() != 0;
  r.prompt_tokens = st.getColumn(12).getInt64();
  r.completion_tokens = st.getColumn(13).getInt64();
  r.thoughts_tokens = st.getColumn(14).getInt64();
  r.cached_tokens = st.getColumn(15).getInt64();
  r.total_tokens = st.getColumn(16).getInt64();
  r.error = st.getColumn(17).getString();
  r.request_id = st.getColumn(18).getString();
  r.instance_id = st.getColumn(19).getString();
  r.failed_key_ids = parse_id_list(st.getColumn(20).getString());
  return r;
}

ErrorLogRow read_error_row(SQLite::Statement& st) {
  ErrorLogRow r;
  r.id = st.getColumn(0).getInt64();
  r.time_ms = st.getColumn(1).getInt64();
  r.key_id = sqlite::column_optional(st.getColumn(2));
  r.model = st.getColumn(3).getString();
  r.status = st.getColumn(4).getInt();
  r.kind = st.getColumn(5).getString();
  r.message = st.getColumn(6).getString();
  r.route = st.getColumn(7).getString();
  r.instance_id = st.getColumn(8).getString();
  return r;
}

template <class Row, class Read>
Result<LogPage<Row>> query_page(SQLite::Database& db, const char* what, const char* table,
                                const char* columns, const SqlWhere& where, PageRequest page,
                                Read read) {
  page = clamp_page(page);
  return guarded(what, [&]() -> Result<LogPage<Row>> {
    LogPage<Row> out;
    out.page = page.page;
    out.per_page = page.per_page;
    ReadTx snapshot(db);  // the count and the page see the same rows
    SQLite::Statement count(db, std::string("SELECT COUNT(*) FROM ") + table + where.sql);
    sqlite::bind_args(count, where.args);
    if (count.executeStep()) out.total = count.getColumn(0).getInt64();
    SQLite::Statement st(db, std::string("SELECT ") + columns + " FROM " + table + where.sql +
                                 " ORDER BY time_ms DESC, id DESC LIMIT ? OFFSET ?");
    int next = sqlite::bind_args(st, where.args);
    st.bind(next, static_cast<std::int64_t>(page.per_page));
    st.bind(next + 1, static_cast<std::int64_t>(page.page - 1) * page.per_page);
    while (st.executeStep()) out.items.push_back(read(st));
    return out;
  });
}

// Log batches commit with synchronous=NORMAL; everything else keeps FULL. In WAL mode NORMAL
// skips the fsync at commit but stays consistent: an application crash loses nothing, and a
// power cut can lose only log batches committed since the last FULL commit or checkpoint (the
// next FULL commit or checkpoint syncs the WAL, earlier log frames included). That is the
// hardening policy for usage data — logs must not slow key/settings durability or vice versa —
// and it makes a 500-row batch several times cheaper.
class RelaxedSync {
 public:
  explicit RelaxedSync(SQLite::Database& db) : db_(db) { db_.exec("PRAGMA synchronous = NORMAL"); }
  ~RelaxedSync() {
    if (db_.tryExec("PRAGMA synchronous = FULL") != SQLITE_OK) {
      log::error("storage: could not restore synchronous=FULL after a log batch");
    }
  }
  RelaxedSync(const RelaxedSync&) = delete;
  RelaxedSync& operator=(const RelaxedSync&) = delete;

 private:
  SQLite::Database& db_;
};

// Rows per multi-row INSERT of a log batch, and for the rest of a batch: 4.65 → 3.85 µs per row
// against one row per statement (bench_log_append; 500 rows gave the same as 128). 128 × 19
// placeholders stay far below SQLite's limit of 32 766.
constexpr std::size_t kRowsPerInsert = 128;
constexpr std::size_t kRowsPerSmallInsert = 16;
constexpr int kRequestInsertColumns = 19;

// "INSERT INTO request_log (...) VALUES (?, ...), ..." for `rows` rows.
std::string request_insert_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO request_log (time_ms, route, method, path, model, key_id, token_id, status, "
      "latency_ms, attempts, stream, prompt_tokens, completion_tokens, thoughts_tokens, "
      "cached_tokens, total_tokens, error, request_id, instance_id) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    sql += i ? ", (" : "(";
    sql += sqlite::placeholders(kRequestInsertColumns);
    sql += ')';
  }
  return sql;
}

// Binds `r` to the 19 parameters after `offset` (1-based: offset + 1 … offset + 19), text
// without a copy: the row must outlive the statement's next reset and clearBindings().
void bind_request_row(SQLite::Statement& st, int offset, const RequestLogRow& r) {
  st.bind(offset + 1, r.time_ms);
  st.bindNoCopy(offset + 2, r.route);
  st.bindNoCopy(offset + 3, r.method);
  st.bindNoCopy(offset + 4, r.path);
  st.bindNoCopy(offset + 5, r.model);
  sqlite::bind_optional(st, offset + 6, r.key_id);
  sqlite::bind_optional(st, offset + 7, r.token_id);
  st.bind(offset + 8, r.status);
  st.bind(offset + 9, r.latency_ms);
  st.bind(offset + 10, r.attempts);
  st.bind(offset + 11, r.stream ? 1 : 0);
  st.bind(offset + 12, r.prompt_tokens);
  st.bind(offset + 13, r.completion_tokens);
  st.bind(offset + 14, r.thoughts_tokens);
  st.bind(offset + 15, r.cached_tokens);
  st.bind(offset + 16, r.total_tokens);
  st.bindNoCopy(offset + 17, r.error);
  st.bindNoCopy(offset + 18, r.request_id);
  st.bindNoCopy(offset + 19, r.instance_id);
}

LogFilter before(Millis before_ms) {
  LogFilter f;
  f.to_ms = before_ms;
  return f;
}

}  // namespace

// ---- Request logs ------------------------------------------------------------------------------

Result<void> SqliteStore::append_request_logs(const std::vector<RequestLogRow>& rows) {
  if (rows.empty()) return {};
  return guarded("append_request_logs", [&]() -> Result<void> {
    // Rows are stored as every store keeps them (validate.h); the common batch, already clean,
    // is used as it is instead of being copied row by row.
    std::vector<RequestLogRow> cleaned;
    if (!std::all_of(rows.begin(), rows.end(), is_clean_request_log_row)) {
      cleaned.reserve(rows.size());
      for (const RequestLogRow& r : rows) cleaned.push_back(clean_request_log_row(r));
    }
    const std::vector<RequestLogRow>& clean = cleaned.empty() ? rows : cleaned;
    RelaxedSync relaxed(*db_);
    WriteTx tx(*db_);
    static const std::string kInsertOne = request_insert_sql(1);
    static const std::string kInsertSome = request_insert_sql(kRowsPerSmallInsert);
    static const std::string kInsertMany = request_insert_sql(kRowsPerInsert);
    SQLite::Statement& one = statements_->get(kInsertOne);
    SQLite::Statement& some = statements_->get(kInsertSome);
    SQLite::Statement& many = statements_->get(kInsertMany);
    SQLite::Statement& failed = statements_->get(
        "INSERT OR IGNORE INTO request_log_failed_keys (log_id, key_id) VALUES (?, ?)");
    // Rows without failed keys go kRowsPerInsert (then kRowsPerSmallInsert) to a statement: its
    // cursors on the table and on each index are opened once, not once per row. The rest, and
    // every row whose failed keys need its own id, one at a time. Rows keep their order.
    std::size_t i = 0;
    while (i < clean.size()) {
      std::size_t run = 0;
      while (run < kRowsPerInsert && i + run < clean.size() &&
             clean[i + run].failed_key_ids.empty()) {
        ++run;
      }
      if (run >= kRowsPerSmallInsert) {
        const std::size_t n = run == kRowsPerInsert ? kRowsPerInsert : kRowsPerSmallInsert;
        SQLite::Statement& st = n == kRowsPerInsert ? many : some;
        for (std::size_t k = 0; k < n; ++k) {
          bind_request_row(st, static_cast<int>(k) * kRequestInsertColumns, clean[i + k]);
        }
        st.exec();
        st.reset();
        i += n;
        continue;
      }
      const RequestLogRow& r = clean[i++];
      bind_request_row(one, 0, r);
      one.exec();
      one.reset();
      const std::int64_t log_id = db_->getLastInsertRowid();
      for (std::int64_t key_id : r.failed_key_ids) {
        failed.bind(1, log_id);
        failed.bind(2, key_id);
        failed.exec();
        failed.reset();
      }
    }
    sqlite::add_to_usage_rollups(*statements_, clean);
    tx.commit();
    one.clearBindings();  // the rows' text they pointed at is about to go
    some.clearBindings();
    many.clearBindings();
    return {};
  });
}

Result<LogPage<RequestLogRow>> SqliteStore::query_request_logs(const LogFilter& filter,
                                                               PageRequest page) {
  return query_page<RequestLogRow>(*db_, "query_request_logs", "request_log", kRequestColumns,
                                   sqlite::request_log_where(filter), page, read_request_row);
}

Result<std::int64_t> SqliteStore::delete_request_logs_by_ids(const std::vector<std::int64_t>& ids) {
  return delete_by_ids("request_log", ids);
}

Result<std::int64_t> SqliteStore::delete_request_logs(const LogFilter& filter) {
  return delete_where("request_log", sqlite::request_log_where(filter));
}

Result<std::int64_t> SqliteStore::prune_request_logs(Millis before_ms) {
  return delete_where("request_log", sqlite::log_where(before(before_ms), std::nullopt));
}

Result<std::int64_t> SqliteStore::cap_request_logs(std::int64_t max_rows, int max_chunks) {
  if (max_rows <= 0) return std::int64_t{0};
  return guarded("cap_request_logs", [&]() -> Result<std::int64_t> {
    // Ids grow with arrival, so "the newest max_rows" is every id above max(id) - max_rows: an
    // index seek, no COUNT(*) over millions of rows. Gaps left by deletes only make it keep
    // fewer rows than the cap, never more.
    const std::int64_t top =
        db_->execAndGet("SELECT COALESCE(MAX(id), 0) FROM request_log").getInt64();
    const std::int64_t cutoff = top - max_rows;  // rows with id <= cutoff go
    if (cutoff <= 0) return std::int64_t{0};
    std::int64_t deleted = 0;
    for (int i = 0; i < max_chunks; ++i) {
      RelaxedSync relaxed(*db_);
      WriteTx tx(*db_);
      SQLite::Statement st(*db_,
                           "DELETE FROM request_log WHERE id IN (SELECT id FROM request_log "
                           "WHERE id <= ? ORDER BY id LIMIT 5000)");
      st.bind(1, cutoff);
      const int n = st.exec();
      tx.commit();
      deleted += n;
      if (n < 5000) break;
    }
    return deleted;
  });
}

// ---- Error logs --------------------------------------------------------------------------------

Result<void> SqliteStore::append_error_logs(const std::vector<ErrorLogRow>& rows) {
  if (rows.empty()) return {};
  return guarded("append_error_logs", [&]() -> Result<void> {
    RelaxedSync relaxed(*db_);
    WriteTx tx(*db_);
    SQLite::Statement ins(*db_,
                          "INSERT INTO error_log (time_ms, key_id, model, status, kind, message, "
                          "route, instance_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (const ErrorLogRow& r : rows) {
      ins.bind(1, r.time_ms);
      sqlite::bind_optional(ins, 2, r.key_id);
      const ErrorLogRow c = clean_error_log_row(r);
      ins.bind(3, c.model);
      ins.bind(4, c.status);
      ins.bind(5, c.kind);
      ins.bind(6, c.message);
      ins.bind(7, c.route);
      ins.bind(8, c.instance_id);
      ins.exec();
      ins.reset();
    }
    tx.commit();
    return {};
  });
}

Result<LogPage<ErrorLogRow>> SqliteStore::query_error_logs(const ErrorLogFilter& filter,
                                                           PageRequest page) {
  return query_page<ErrorLogRow>(*db_, "query_error_logs", "error_log", kErrorColumns,
                                 sqlite::log_where(filter, filter.kind), page, read_error_row);
}

Result<std::int64_t> SqliteStore::delete_error_logs_by_ids(const std::vector<std::int64_t>& ids) {
  return delete_by_ids("error_log", ids);
}

Result<std::int64_t> SqliteStore::delete_error_logs(const ErrorLogFilter& filter) {
  return delete_where("error_log", sqlite::log_where(filter, filter.kind));
}

Result<std::int64_t> SqliteStore::prune_error_logs(Millis before_ms) {
  return delete_where("error_log", sqlite::log_where(before(before_ms), std::nullopt));
}

}  // namespace gemgate::storage
