// PgStore: request and error logs — batched appends (one INSERT … SELECT FROM unnest(…) per
// batch, not a statement per row), filtered newest-first pages, deletes and retention. Log
// batches commit with synchronous_commit off: the same trade as SQLite's synchronous=NORMAL
// for log batches (a server crash may lose the last few hundred milliseconds of log rows, never
// a key or settings write, and never leaves the rollups and the log disagreeing).
#include <algorithm>

#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_rollups.h"
#include "storage/postgres/pg_store.h"
#include "storage/postgres/pg_util.h"
#include "storage/validate.h"

namespace gemgate::storage {

using pg::arg;
using pg::Params;
using pg::Tx;

namespace {

constexpr const char* kRequestColumns =
    "id, time_ms, route, method, path, model, key_id, token_id, status, latency_ms, attempts, "
    "stream, prompt_tokens, completion_tokens, thoughts_tokens, cached_tokens, total_tokens, "
    "error, request_id, instance_id, "
    "(SELECT string_agg(f.key_id::text, ',' ORDER BY f.key_id) FROM request_log_failed_keys f "
    "WHERE f.log_id = request_log.id)";
constexpr const char* kErrorColumns =
    "id, time_ms, key_id, model, status, kind, message, route, instance_id";

// "3,7,12" → {3, 7, 12}.
std::vector<std::int64_t> parse_id_list(const std::string& text) {
  std::vector<std::int64_t> ids;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    if (comma > at) ids.push_back(std::strtoll(text.c_str() + at, nullptr, 10));
    at = comma + 1;
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

RequestLogRow read_request_row(const pg::Rows& rows, int i) {
  RequestLogRow r;
  r.id = rows.i64(i, 0);
  r.time_ms = rows.i64(i, 1);
  r.route = rows.text(i, 2);
  r.method = rows.text(i, 3);
  r.path = rows.text(i, 4);
  r.model = rows.text(i, 5);
  r.key_id = rows.opt_i64(i, 6);
  r.token_id = rows.opt_i64(i, 7);
  r.status = static_cast<int>(rows.i64(i, 8));
  r.latency_ms = rows.i64(i, 9);
  r.attempts = static_cast<int>(rows.i64(i, 10));
  r.stream = rows.boolean(i, 11);
  r.prompt_tokens = rows.i64(i, 12);
  r.completion_tokens = rows.i64(i, 13);
  r.thoughts_tokens = rows.i64(i, 14);
  r.cached_tokens = rows.i64(i, 15);
  r.total_tokens = rows.i64(i, 16);
  r.error = rows.text(i, 17);
  r.request_id = rows.text(i, 18);
  r.instance_id = rows.text(i, 19);
  if (!rows.is_null(i, 20)) r.failed_key_ids = parse_id_list(rows.text(i, 20));
  return r;
}

ErrorLogRow read_error_row(const pg::Rows& rows, int i) {
  ErrorLogRow r;
  r.id = rows.i64(i, 0);
  r.time_ms = rows.i64(i, 1);
  r.key_id = rows.opt_i64(i, 2);
  r.model = rows.text(i, 3);
  r.status = static_cast<int>(rows.i64(i, 4));
  r.kind = rows.text(i, 5);
  r.message = rows.text(i, 6);
  r.route = rows.text(i, 7);
  r.instance_id = rows.text(i, 8);
  return r;
}

template <class Row, class Read>
Result<LogPage<Row>> query_page(pg::Connection& db, const char* table, const char* columns,
                                const pg::Where& where, PageRequest page, Read read) {
  page = clamp_page(page);
  LogPage<Row> out;
  out.page = page.page;
  out.per_page = page.per_page;
  Tx tx(db);
  PG_TRY(tx.begin("REPEATABLE READ READ ONLY"));  // the count and the page see the same rows
  PG_LET(count, db.exec(std::string("SELECT COUNT(*) FROM ") + table + where.sql, where.args));
  out.total = count.i64(0, 0);
  Params args = where.args;
  args.push_back(arg(static_cast<std::int64_t>(page.per_page)));
  args.push_back(arg(static_cast<std::int64_t>(page.page - 1) * page.per_page));
  PG_LET(rows, db.exec(std::string("SELECT ") + columns + " FROM " + table + where.sql +
                           " ORDER BY time_ms DESC, id DESC LIMIT $" + std::to_string(where.next) +
                           " OFFSET $" + std::to_string(where.next + 1),
                       args));
  for (int i = 0; i < rows.size(); ++i) out.items.push_back(read(rows, i));
  PG_TRY(tx.commit());
  return out;
}

LogFilter before(Millis before_ms) {
  LogFilter f;
  f.to_ms = before_ms;
  return f;
}

}  // namespace

// ---- Request logs ------------------------------------------------------------------------------

Result<void> PgStore::append_request_logs(const std::vector<RequestLogRow>& rows) {
  if (rows.empty()) return {};
  // The common batch, already clean (validate.h), is used as it is instead of copied row by row.
  std::vector<RequestLogRow> cleaned;
  if (!std::all_of(rows.begin(), rows.end(), is_clean_request_log_row)) {
    cleaned.reserve(rows.size());
    for (const RequestLogRow& r : rows) cleaned.push_back(clean_request_log_row(r));
  }
  const std::vector<RequestLogRow>& clean = cleaned.empty() ? rows : cleaned;
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_TRY(db_->exec_script("SET LOCAL synchronous_commit = off"));
  // Ids first (ascending, from the table's own sequence), so failed keys can name their rows.
  PG_LET(ids, db_->exec("SELECT nextval(pg_get_serial_sequence('request_log', 'id')) AS id "
                        "FROM generate_series(1, $1) ORDER BY id",
                        {arg(static_cast<std::int64_t>(clean.size()))}));
  constexpr int kCols = 20;
  std::vector<Params> cols(kCols);
  Params failed_log, failed_key;
  for (std::size_t n = 0; n < clean.size(); ++n) {
    const RequestLogRow& r = clean[n];
    const std::int64_t id = ids.i64(static_cast<int>(n), 0);
    const Params values = {arg(id),
                           arg(r.time_ms),
                           arg(r.route),
                           arg(r.method),
                           arg(r.path),
                           arg(r.model),
                           arg(r.key_id),
                           arg(r.token_id),
                           arg(r.status),
                           arg(r.latency_ms),
                           arg(r.attempts),
                           arg(r.stream),
                           arg(r.prompt_tokens),
                           arg(r.completion_tokens),
                           arg(r.thoughts_tokens),
                           arg(r.cached_tokens),
                           arg(r.total_tokens),
                           arg(r.error),
                           arg(r.request_id),
                           arg(r.instance_id)};
    for (int c = 0; c < kCols; ++c) cols[static_cast<std::size_t>(c)].push_back(values[c]);
    for (std::int64_t key : r.failed_key_ids) {
      failed_log.push_back(arg(id));
      failed_key.push_back(arg(key));
    }
  }
  Params args;
  for (const Params& c : cols) args.push_back(pg::array_of(c));
  PG_TRY(db_->exec(
      "INSERT INTO request_log (id, time_ms, route, method, path, model, key_id, token_id, "
      "status, latency_ms, attempts, stream, prompt_tokens, completion_tokens, thoughts_tokens, "
      "cached_tokens, total_tokens, error, request_id, instance_id) SELECT * FROM "
      "unnest($1::bigint[], "
      "$2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], "
      "$9::integer[], $10::bigint[], $11::integer[], $12::boolean[], $13::bigint[], $14::bigint[], "
      "$15::bigint[], $16::bigint[], $17::bigint[], $18::text[], $19::text[], $20::text[])",
      args));
  if (!failed_log.empty()) {
    PG_TRY(
        db_->exec("INSERT INTO request_log_failed_keys (log_id, key_id) SELECT * FROM "
                  "unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING",
                  {pg::array_of(failed_log), pg::array_of(failed_key)}));
  }
  PG_TRY(pg::add_to_usage_rollups(*db_, clean));
  PG_TRY(tx.commit());
  return {};
}

Result<LogPage<RequestLogRow>> PgStore::query_request_logs(const LogFilter& filter,
                                                           PageRequest page) {
  return query_page<RequestLogRow>(*db_, "request_log", kRequestColumns,
                                   pg::log_where(filter, std::nullopt, true), page,
                                   read_request_row);
}

Result<std::int64_t> PgStore::delete_request_logs_by_ids(const std::vector<std::int64_t>& ids) {
  return delete_by_ids("request_log", ids);
}

Result<std::int64_t> PgStore::delete_request_logs(const LogFilter& filter) {
  return delete_where("request_log", pg::log_where(filter, std::nullopt, true));
}

Result<std::int64_t> PgStore::prune_request_logs(Millis before_ms) {
  return delete_where("request_log", pg::log_where(before(before_ms), std::nullopt, false));
}

Result<std::int64_t> PgStore::cap_request_logs(std::int64_t max_rows, int max_chunks) {
  if (max_rows <= 0) return std::int64_t{0};
  // Ids grow with arrival: "the newest max_rows" is every id above max(id) - max_rows (an index
  // seek, no COUNT(*)). Ids of a group come from one sequence, so this holds for all instances.
  PG_LET(top, db_->exec("SELECT COALESCE(MAX(id), 0) FROM request_log"));
  const std::int64_t cutoff = top.i64(0, 0) - max_rows;
  if (cutoff <= 0) return std::int64_t{0};
  std::int64_t deleted = 0;
  for (int i = 0; i < max_chunks; ++i) {
    PG_LET(del, db_->exec("DELETE FROM request_log WHERE id IN (SELECT id FROM request_log "
                          "WHERE id <= $1 ORDER BY id LIMIT 5000)",
                          {arg(cutoff)}));
    deleted += del.affected();
    if (del.affected() < 5000) break;
  }
  return deleted;
}

// ---- Error logs --------------------------------------------------------------------------------

Result<void> PgStore::append_error_logs(const std::vector<ErrorLogRow>& rows) {
  if (rows.empty()) return {};
  std::vector<Params> cols(8);
  for (const ErrorLogRow& in : rows) {
    const ErrorLogRow r = clean_error_log_row(in);
    const Params values = {arg(r.time_ms), arg(r.key_id),  arg(r.model), arg(r.status),
                           arg(r.kind),    arg(r.message), arg(r.route), arg(r.instance_id)};
    for (std::size_t c = 0; c < cols.size(); ++c) cols[c].push_back(values[c]);
  }
  Params args;
  for (const Params& c : cols) args.push_back(pg::array_of(c));
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_TRY(db_->exec_script("SET LOCAL synchronous_commit = off"));
  PG_TRY(
      db_->exec("INSERT INTO error_log (time_ms, key_id, model, status, kind, message, route, "
                "instance_id) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], "
                "$4::integer[], $5::text[], $6::text[], $7::text[], $8::text[])",
                args));
  PG_TRY(tx.commit());
  return {};
}

Result<LogPage<ErrorLogRow>> PgStore::query_error_logs(const ErrorLogFilter& filter,
                                                       PageRequest page) {
  return query_page<ErrorLogRow>(*db_, "error_log", kErrorColumns,
                                 pg::log_where(filter, filter.kind, false), page, read_error_row);
}

Result<std::int64_t> PgStore::delete_error_logs_by_ids(const std::vector<std::int64_t>& ids) {
  return delete_by_ids("error_log", ids);
}

Result<std::int64_t> PgStore::delete_error_logs(const ErrorLogFilter& filter) {
  return delete_where("error_log", pg::log_where(filter, filter.kind, false));
}

Result<std::int64_t> PgStore::prune_error_logs(Millis before_ms) {
  return delete_where("error_log", pg::log_where(before(before_ms), std::nullopt, false));
}

}  // namespace gemgate::storage
