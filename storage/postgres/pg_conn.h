// The small libpq layer PgStore and PgChangeFeed are written on: one connection with its
// prepared statements, reconnect with backoff, text parameters, typed result access and the
// mapping of PostgreSQL errors (SQLSTATE) to gemgate's error codes. Not thread-safe: one
// thread at a time, like the Store that owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

struct pg_conn;
struct pg_result;

namespace gemgate::storage::pg {

// One statement parameter in text form; nullopt is SQL NULL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

inline Param arg(std::int64_t v) {
  return std::to_string(v);
}
inline Param arg(int v) {
  return std::to_string(v);
}
inline Param arg(bool v) {
  return std::string(v ? "true" : "false");
}
// Text goes to the server as valid UTF-8 without NUL bytes (PostgreSQL refuses both, which would
// fail a whole log batch): each invalid byte becomes U+FFFD, NULs are dropped. Keys, hashes and
// JSON from gemgate are valid already and pass unchanged.
Param arg(std::string_view v);
inline Param arg(const char* v) {
  return arg(std::string_view(v));
}
inline Param arg(const std::string& v) {
  return arg(std::string_view(v));
}
inline Param arg(const std::optional<std::int64_t>& v) {
  return v ? arg(*v) : Param();
}
// A bigint[] literal ("{1,2,3}") for `= ANY($n::bigint[])`: one statement for any list size.
Param id_array(const std::vector<std::int64_t>& ids);
// An array literal ("{\"a\",NULL}") of `values` (each already passed through arg()), for
// `unnest($n::text[], …)`: one statement inserts a whole batch.
Param array_of(const std::vector<Param>& values);
// bytea in hex input form ("\x0a1b…").
Param bytea(std::string_view bytes);

// The rows of one statement. Owns the libpq result.
class Rows {
 public:
  explicit Rows(pg_result* r);
  ~Rows();
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  int size() const;
  // Rows changed by INSERT/UPDATE/DELETE.
  std::int64_t affected() const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;
  std::int64_t i64(int row, int col) const;  // 0 for NULL
  std::optional<std::int64_t> opt_i64(int row, int col) const;
  bool boolean(int row, int col) const;       // 't'
  std::string bytes(int row, int col) const;  // bytea, decoded from hex output

 private:
  pg_result* r_ = nullptr;
};

// Settings applied to every connection (libpq keywords), placed BEFORE the user's conninfo so
// the user's own values win.
struct ConnectOptions {
  int connect_timeout_s = 5;
  int statement_timeout_ms = 30'000;
  int lock_timeout_ms = 10'000;
  std::string application_name = "gemgate";
};

class Connection {
 public:
  // Connects to `conninfo` (a postgres:// URL or a key=value string). Errors are
  // kUnavailable (server down, auth failed: may work later) or kInvalidArgument (a conninfo
  // libpq cannot parse); their messages never contain the password.
  static Result<std::unique_ptr<Connection>> open(std::string conninfo,
                                                  ConnectOptions options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement (prepared on first use and reused) with text parameters. When the
  // connection is broken, first reconnects (at most once per backoff period, which doubles up
  // to 5 s after each failure): kUnavailable until that works. A statement that fails because
  // the connection dropped returns kUnavailable; it is re-sent on a fresh connection only when
  // that is harmless: no transaction was open and it never ran (the PREPARE failed) or it
  // only reads or begins (SELECT, BEGIN).
  Result<Rows> exec(std::string_view sql, const Params& params = {});
  // Runs a script of statements without parameters (migrations, BEGIN/COMMIT), unprepared.
  Result<void> exec_script(std::string_view sql);

  // True while the connection is up (as far as libpq knows).
  bool healthy() const;
  // Tries to reconnect now if broken (ignoring the backoff). kUnavailable when it fails.
  Result<void> ensure_connected();
  // The socket, for the change feed's poll(); -1 when broken.
  int socket() const;
  pg_conn* raw() { return conn_; }
  // A message from libpq with the password removed and log::redact() applied.
  std::string clean(std::string_view message) const;
  // Drops the link (the next call reconnects): after a failure mid-transaction.
  void mark_broken();

 private:
  Connection(std::string conninfo, ConnectOptions options);
  Result<void> connect();
  Error error_from(std::string_view what, pg_result* r) const;

  std::string conninfo_;
  ConnectOptions options_;
  std::vector<std::string> passwords_;  // removed from every message
  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // sql → statement name
  int next_statement_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
};

// A transaction: BEGIN now; ROLLBACK on destruction unless commit() succeeded.
class Tx {
 public:
  explicit Tx(Connection& c) : c_(c) {}
  ~Tx();
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  // BEGIN (isolation `level`, e.g. "REPEATABLE READ READ ONLY" for a consistent read).
  Result<void> begin(std::string_view level = "");
  Result<void> commit();

 private:
  Connection& c_;
  bool open_ = false;
};

// The wall clock in Unix milliseconds.
std::int64_t wall_clock_ms();

}  // namespace gemgate::storage::pg
