// Helpers shared by the PgStore source files: early-return macros over Result, WHERE clauses
// built from log filters with numbered placeholders, and the rules both stores share.
#pragma once

#include <optional>
#include <string>

#include "storage/postgres/pg_conn.h"
#include "storage/types.h"

// Returns the error of `expr` (a Result) from the enclosing function when it failed.
#define PG_TRY(expr)                                         \
  do {                                                       \
    auto pg_try_result_ = (expr);                            \
    if (!pg_try_result_.ok()) return pg_try_result_.error(); \
  } while (0)

// Declares `var` as the value of `expr` (a Result<T>), or returns its error.
#define PG_LET(var, expr)                                \
  auto var##_result_ = (expr);                           \
  if (!var##_result_.ok()) return var##_result_.error(); \
  auto var = std::move(var##_result_).value()

namespace gemgate::storage::pg {

// A WHERE clause (" WHERE a = $1 AND b = $2", or "") and its parameters, numbered from the
// `first` given to the builder.
struct Where {
  std::string sql;
  Params args;
  int next = 1;  // the next free placeholder number
};

// WHERE clause for a log filter; `kind` applies to error logs only. With `failed_keys`, a key
// matches the request rows it answered and those where its attempt failed first.
Where log_where(const LogFilter& filter, const std::optional<std::string>& kind, bool failed_keys,
                int first = 1);

// The associated data a pool key is sealed with (the same as SQLite's: a database moved from
// one store to the other keeps opening).
inline std::string key_aad(std::string_view fingerprint) {
  return "gemgate/pool-key/" + std::string(fingerprint);
}
// The associated data a key's own proxy URL is sealed with: bound to the key's row (as SQLite's).
inline std::string key_proxy_aad(std::int64_t key_id) {
  return "gemgate/pool-key-proxy/" + std::to_string(key_id);
}

}  // namespace gemgate::storage::pg
