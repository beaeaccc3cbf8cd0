// Small helpers shared by the SqliteStore source files: exception-to-Error mapping at the
// SQLiteCpp edge, WHERE clauses built from log filters, and binding helpers.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/result.h"
#include "storage/types.h"

namespace gemgate::storage::sqlite {

// Turns a SQLite failure into an Error: busy/locked/full/I/O → kUnavailable (retriable),
// unique/primary-key clash → kAlreadyExists, CHECK/NOT NULL → kInvalidArgument, corruption
// and everything else → kInternal. The message is "<what>: <sqlite message>"; SQLite messages
// name columns and constraints, never bound values, so no secret can leak through them.
Error to_error(std::string_view what, const SQLite::Exception& e);

// Runs `f` (which returns a Result) and converts any exception it throws into an Error.
template <class F>
auto guarded(std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const SQLite::Exception& e) {
    return to_error(what, e);
  } catch (const std::exception& e) {
    return Error::internal(std::string(what) + ": " + e.what());
  }
}

// A read transaction: one consistent snapshot for queries made of several statements.
class ReadTx {
 public:
  explicit ReadTx(SQLite::Database& db) : db_(db) { db_.exec("BEGIN"); }
  ~ReadTx() { db_.tryExec("COMMIT"); }
  ReadTx(const ReadTx&) = delete;
  ReadTx& operator=(const ReadTx&) = delete;

 private:
  SQLite::Database& db_;
};

// A write transaction. BEGIN IMMEDIATE takes the write lock up front, so a read-to-write upgrade
// can never deadlock against another process; rolled back unless commit() is called.
class WriteTx {
 public:
  explicit WriteTx(SQLite::Database& db) : tx_(db, SQLite::TransactionBehavior::IMMEDIATE) {}
  void commit() { tx_.commit(); }

 private:
  SQLite::Transaction tx_;
};

using SqlArg = std::variant<std::int64_t, std::string>;

// A WHERE clause (" WHERE a = ? AND b = ?", or "" for no condition) and its arguments.
struct SqlWhere {
  std::string sql;
  std::vector<SqlArg> args;
};

// WHERE clause for a log filter; `kind` applies to error logs only.
SqlWhere log_where(const LogFilter& filter, const std::optional<std::string>& kind);

// WHERE clause for a request-log filter: as log_where, but a key matches the request rows it
// answered last and those where its attempt failed before another key answered
// (request_log_failed_keys).
SqlWhere request_log_where(const LogFilter& filter);

// Binds args to ?-placeholders starting at index `first`; returns the next free index.
int bind_args(SQLite::Statement& st, const std::vector<SqlArg>& args, int first = 1);

// Binds an optional integer (NULL when empty).
void bind_optional(SQLite::Statement& st, int index, const std::optional<std::int64_t>& v);

// Reads a nullable integer column.
std::optional<std::int64_t> column_optional(const SQLite::Column& c);

// The wall clock in Unix milliseconds (deletion records, when the caller passes no time).
std::int64_t wall_clock_ms();

// The associated data a pool key is sealed with: binds the ciphertext to its fingerprint, so a
// sealed value moved to another row (with another fingerprint) does not open.
inline std::string key_aad(std::string_view fingerprint) {
  return "gemgate/pool-key/" + std::string(fingerprint);
}
// ... and of a key's sealed proxy URL, bound to the key's id so it cannot move to another row.
inline std::string key_proxy_aad(std::int64_t key_id) {
  return "gemgate/pool-key-proxy/" + std::to_string(key_id);
}

// Statements prepared once per connection and reused: the inserts and rollup upserts of a log
// batch were prepared anew for every batch. Only for fixed SQL texts (a handful per
// connection). Must be destroyed before its database (declare it after the database).
class StatementCache {
 public:
  explicit StatementCache(SQLite::Database& db) : db_(db) {}
  // The statement for `sql`, prepared on first use; reset, with no value bound. Throws as
  // SQLite::Statement's constructor does.
  SQLite::Statement& get(const std::string& sql);

 private:
  SQLite::Database& db_;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
};

// "?,?,?" with n placeholders.
std::string placeholders(std::size_t n);

// Splits ids into groups small enough for one statement's placeholder list.
std::vector<std::vector<std::int64_t>> chunk_ids(const std::vector<std::int64_t>& ids,
                                                 std::size_t chunk = 500);

}  // namespace gemgate::storage::sqlite
