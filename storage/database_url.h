// DATABASE_URL parsing: which backend, and where its data lives.
//
//   file:./data/gemgate.db   file:/abs/path.db   file:///abs/path.db   (RFC 8089 file URIs)
//   sqlite:./x.db            sqlite:///abs/x.db                        (same rules as file:)
//   ./data/gemgate.db        /abs/path.db                              (a plain path)
//   :memory:  /  sqlite::memory:                                       (in-memory, for tests)
//   postgres://user:pass@host:port/db?sslmode=… / postgresql://…      (PostgreSQL, libpq URL)
//   host=… port=… dbname=… user=… password=… sslmode=…                 (PostgreSQL, libpq
//   key=value)
//
// For SQLite, `//host/` must be empty or "localhost"; %XX escapes are decoded in the URL forms;
// query strings are refused rather than silently ignored. PostgreSQL strings go to libpq as
// given (it decodes %XX in URLs and takes its parameters from the query string). Error messages
// never repeat a PostgreSQL URL (it may hold a password).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace gemgate::storage {

enum class DatabaseKind { kSqlite, kPostgres };

struct DatabaseUrl {
  DatabaseKind kind = DatabaseKind::kSqlite;
  std::string path;      // kSqlite: a filesystem path, or ":memory:"
  std::string conninfo;  // kPostgres: the URL or key=value string as given (may contain a
                         // password: never log it)
};

// Parses a DATABASE_URL. kInvalidArgument for an empty value, an unknown scheme, a host in a
// file URL, a query string or a bad %-escape.
Result<DatabaseUrl> parse_database_url(std::string_view url);

}  // namespace gemgate::storage
