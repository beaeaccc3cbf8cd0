// The libpq layer (see pg_conn.h).
#include "storage/postgres/pg_conn.h"

#include <algorithm>
#include <cstdlib>
#include <libpq-fe.h>

#include "core/log.h"

namespace gemgate::storage::pg {
namespace {

constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr std::chrono::milliseconds kFirstBackoff{250};

bool starts_with_word(std::string_view sql, std::string_view word) {
  while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n')) sql.remove_prefix(1);
  if (sql.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(sql[i])) != word[i]) return false;
  }
  return true;
}

// A statement that may be sent again on a fresh connection when the old one turned out dead:
// outside a transaction, it either did nothing (BEGIN) or only reads.
bool safe_to_resend(std::string_view sql) {
  return starts_with_word(sql, "BEGIN") || starts_with_word(sql, "SELECT");
}

void ignore_notice(void*, const char*) {}

// Error code for a SQLSTATE (null: a client-side failure, i.e. the connection).
ErrorCode code_for(const char* state, bool* retriable) {
  *retriable = false;
  if (state == nullptr) {
    *retriable = true;
    return ErrorCode::kUnavailable;
  }
  const std::string_view s(state);
  if (s == "23505") return ErrorCode::kAlreadyExists;
  if (s == "23514" || s == "23502" || s.substr(0, 2) == "22") return ErrorCode::kInvalidArgument;
  if (s.substr(0, 2) == "08" || s == "40001" || s == "40P01" || s == "55P03" ||
      s.substr(0, 2) == "57" || s.substr(0, 2) == "53") {
    *retriable = true;
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

}  // namespace

Param arg(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  std::size_t i = 0;
  while (i < v.size()) {
    const auto c = static_cast<unsigned char>(v[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xe  ? 3
                      : (c >> 3) == 0x1e ? 4
                                         : 0;
    bool ok = len > 0 && i + len <= v.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(v[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len > 1) {
      // Overlong forms, surrogates and code points past U+10FFFF are invalid too.
      const auto c1 = static_cast<unsigned char>(v[i + 1]);
      if ((len == 2 && c < 0xc2) || (len == 3 && c == 0xe0 && c1 < 0xa0) ||
          (len == 3 && c == 0xed && c1 >= 0xa0) || (len == 4 && c == 0xf0 && c1 < 0x90) ||
          (len == 4 && (c > 0xf4 || (c == 0xf4 && c1 >= 0x90)))) {
        ok = false;
      }
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else if (c == 0) {
      ++i;
    } else {
      out.append(v.substr(i, len));
      i += len;
    }
  }
  return out;
}

Param id_array(const std::vector<std::int64_t>& ids) {
  std::string s = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(ids[i]);
  }
  return s + "}";
}

Param array_of(const std::vector<Param>& values) {
  std::string s = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) s += ',';
    if (!values[i]) {
      s += "NULL";
      continue;
    }
    s += '"';
    for (char c : *values[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  return s + "}";
}

Param bytea(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string s = "\\x";
  s.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    s += kHex[c >> 4];
    s += kHex[c & 0xf];
  }
  return s;
}

// ---- Rows --------------------------------------------------------------------------------------

Rows::Rows(pg_result* r) : r_(r) {}
Rows::~Rows() {
  if (r_ != nullptr) PQclear(r_);
}
Rows::Rows(Rows&& other) noexcept : r_(other.r_) {
  other.r_ = nullptr;
}
Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (r_ != nullptr) PQclear(r_);
    r_ = other.r_;
    other.r_ = nullptr;
  }
  return *this;
}
int Rows::size() const {
  return r_ == nullptr ? 0 : PQntuples(r_);
}
std::int64_t Rows::affected() const {
  const char* n = r_ == nullptr ? "" : PQcmdTuples(r_);
  return n[0] == '\0' ? 0 : std::strtoll(n, nullptr, 10);
}
bool Rows::is_null(int row, int col) const {
  return PQgetisnull(r_, row, col) != 0;
}
std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}
std::int64_t Rows::i64(int row, int col) const {
  return is_null(row, col) ? 0 : std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
std::optional<std::int64_t> Rows::opt_i64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return i64(row, col);
}
bool Rows::boolean(int row, int col) const {
  return !is_null(row, col) && PQgetvalue(r_, row, col)[0] == 't';
}
std::string Rows::bytes(int row, int col) const {
  if (is_null(row, col)) return {};
  std::size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

// ---- Connection --------------------------------------------------------------------------------

Connection::Connection(std::string conninfo, ConnectOptions options)
    : conninfo_(std::move(conninfo)), options_(std::move(options)) {}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
  std::fill(conninfo_.begin(), conninfo_.end(), '\0');
}

Result<std::unique_ptr<Connection>> Connection::open(std::string conninfo, ConnectOptions options) {
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err);
  if (parsed == nullptr) {
    if (err != nullptr) PQfreemem(err);  // may quote the string, password included: not shown
    return Error::invalid(
        "DATABASE_URL is not a valid PostgreSQL connection string (postgres://user:pass@host:"
        "port/db?sslmode=… or key=value pairs such as host=… dbname=…)");
  }
  std::unique_ptr<Connection> c(new Connection(std::move(conninfo), std::move(options)));
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr && o->val[0] != '\0') {
      c->passwords_.emplace_back(o->val);
    }
  }
  PQconninfoFree(parsed);
  if (auto up = c->connect(); !up.ok()) return up.error();
  return c;
}

std::string Connection::clean(std::string_view message) const {
  std::string out(message);
  for (const std::string& p : passwords_) {
    for (std::size_t at = out.find(p); at != std::string::npos; at = out.find(p, at)) {
      out.replace(at, p.size(), "***");
    }
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& ch : out) {
    if (ch == '\n') ch = ' ';
  }
  return log::redact(out);
}

Result<void> Connection::connect() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  prepared_.clear();
  const std::string timeout = std::to_string(options_.connect_timeout_s);
  // Ours first, the user's conninfo (dbname, expanded) last: what the user sets wins.
  const char* keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "application_name",
                        "client_encoding",     "dbname",           nullptr};
  const char* values[] = {
      timeout.c_str(),   "1",    "30", "10", "3", options_.application_name.c_str(), "UTF8",
      conninfo_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ == nullptr ? "out of memory" : clean(PQerrorMessage(conn_));
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
    backoff_ = std::min(kMaxBackoff, backoff_.count() == 0 ? kFirstBackoff : backoff_ * 2);
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    return Error::unavailable("cannot connect to PostgreSQL: " + why);
  }
  backoff_ = std::chrono::milliseconds{0};
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  const std::string setup =
      "SET statement_timeout = " + std::to_string(options_.statement_timeout_ms) +
      "; SET lock_timeout = " + std::to_string(options_.lock_timeout_ms) +
      "; SET client_min_messages = warning; SET TIME ZONE 'UTC'";
  PGresult* r = PQexec(conn_, setup.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  Error e = ok ? Error{} : error_from("connection setup", r);
  PQclear(r);
  if (!ok) {
    PQfinish(conn_);
    conn_ = nullptr;
    return e;
  }
  return {};
}

bool Connection::healthy() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

int Connection::socket() const {
  return healthy() ? PQsocket(conn_) : -1;
}

void Connection::mark_broken() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
}

Result<void> Connection::ensure_connected() {
  if (healthy()) return {};
  return connect();
}

Error Connection::error_from(std::string_view what, pg_result* r) const {
  const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  // The primary message only: its DETAIL may quote values ("Key (token_sha256)=(…) already
  // exists", "Failing row contains (…)"), and a stored value may be a secret.
  const char* primary = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string msg = primary != nullptr ? primary : "";
  if (msg.empty() && conn_ != nullptr) msg = PQerrorMessage(conn_);
  bool retriable = false;
  ErrorCode code = code_for(state, &retriable);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    code = ErrorCode::kUnavailable;
    retriable = true;
  }
  return Error{code, std::string(what) + ": " + clean(msg), retriable};
}

Result<Rows> Connection::exec(std::string_view sql, const Params& params) {
  for (int round = 0;; ++round) {
    if (!healthy()) {
      if (std::chrono::steady_clock::now() < next_attempt_) {
        return Error::unavailable("PostgreSQL is unavailable (reconnecting)");
      }
      if (auto up = connect(); !up.ok()) return up.error();
    }
    const bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    const std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      std::string name = "g" + std::to_string(next_statement_++);
      PGresult* p = PQprepare(conn_, name.c_str(), key.c_str(), 0, nullptr);
      const bool ok = PQresultStatus(p) == PGRES_COMMAND_OK;
      if (!ok) {
        Error e = error_from("prepare", p);
        PQclear(p);
        if (!healthy()) mark_broken();
        // A failed PREPARE ran nothing: outside a transaction it is always safe to try again.
        if (round == 0 && idle && !healthy()) {
          next_attempt_ = {};
          continue;
        }
        return e;
      }
      PQclear(p);
      it = prepared_.emplace(key, std::move(name)).first;
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* r = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0);
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Rows(r);
    Error e = error_from("statement", r);
    PQclear(r);
    if (!healthy()) {
      mark_broken();
      if (round == 0 && idle && safe_to_resend(sql)) {
        next_attempt_ = {};
        continue;
      }
    }
    return e;
  }
}

Result<void> Connection::exec_script(std::string_view sql) {
  for (int round = 0;; ++round) {
    if (!healthy()) {
      if (std::chrono::steady_clock::now() < next_attempt_) {
        return Error::unavailable("PostgreSQL is unavailable (reconnecting)");
      }
      if (auto up = connect(); !up.ok()) return up.error();
    }
    const bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    const std::string text(sql);
    PGresult* r = PQexec(conn_, text.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      PQclear(r);
      return {};
    }
    Error e = error_from("statement", r);
    PQclear(r);
    if (!healthy()) {
      mark_broken();
      if (round == 0 && idle && safe_to_resend(sql)) {
        next_attempt_ = {};
        continue;
      }
    }
    return e;
  }
}

// ---- Tx ----------------------------------------------------------------------------------------

Tx::~Tx() {
  if (open_ && c_.healthy()) {
    if (!c_.exec_script("ROLLBACK").ok()) c_.mark_broken();
  }
}

Result<void> Tx::begin(std::string_view level) {
  auto r = c_.exec_script(level.empty() ? std::string("BEGIN")
                                        : "BEGIN ISOLATION LEVEL " + std::string(level));
  if (r.ok()) open_ = true;
  return r;
}

Result<void> Tx::commit() {
  auto r = c_.exec_script("COMMIT");
  open_ = false;
  return r;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gemgate::storage::pg
