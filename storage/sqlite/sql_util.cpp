// Helpers shared by the SqliteStore source files (see sql_util.h).
#include "storage/sqlite/sql_util.h"

#include <chrono>
#include <sqlite3.h>

#include "storage/log_index_terms.h"

namespace gemgate::storage::sqlite {

Error to_error(std::string_view what, const SQLite::Exception& e) {
  std::string message = std::string(what) + ": " + e.what();
  const int extended = e.getExtendedErrorCode();
  switch (e.getErrorCode() & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return Error::unavailable(std::move(message));
    case SQLITE_CONSTRAINT:
      if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Error{ErrorCode::kAlreadyExists, std::move(message), false};
      }
      if (extended == SQLITE_CONSTRAINT_CHECK || extended == SQLITE_CONSTRAINT_NOTNULL) {
        return Error::invalid(std::move(message));
      }
      return Error::internal(std::move(message));
    default:
      return Error::internal(std::move(message));
  }
}

namespace {

SqlWhere where_of(const LogFilter& f, const std::optional<std::string>& kind,
                  bool with_failed_keys) {
  SqlWhere w;
  auto add = [&w](const char* cond) {
    w.sql += w.sql.empty() ? " WHERE " : " AND ";
    w.sql += cond;
  };
  if (f.from_ms) {
    add("time_ms >= ?");
    w.args.emplace_back(*f.from_ms);
  }
  if (f.to_ms) {
    add("time_ms < ?");
    w.args.emplace_back(*f.to_ms);
  }
  if (f.key_id && with_failed_keys) {
    add("(key_id = ? OR id IN (SELECT log_id FROM request_log_failed_keys WHERE key_id = ?))");
    w.args.emplace_back(*f.key_id);
    w.args.emplace_back(*f.key_id);
  } else if (f.key_id) {
    add("key_id = ?");
    w.args.emplace_back(*f.key_id);
  }
  if (f.model) {
    add("model = ?");
    w.args.emplace_back(*f.model);
  }
  if (f.status) {
    add("status = ?");
    w.args.emplace_back(static_cast<std::int64_t>(*f.status));
  }
  if (f.status_class) {
    add("status >= ? AND status < ?");
    w.args.emplace_back(static_cast<std::int64_t>(*f.status_class) * 100);
    w.args.emplace_back(static_cast<std::int64_t>(*f.status_class + 1) * 100);
  }
  // The partial indexes' conditions, literally (log_index_terms.h); redundant on error_log.
  if (filter_excludes_status_200(f)) add(kStatusIndexTerm);
  if (f.instance_id) {
    add("instance_id = ?");
    w.args.emplace_back(*f.instance_id);
    if (filter_names_instance(f)) add(kInstanceIndexTerm);
  }
  if (kind) {
    add("kind = ?");
    w.args.emplace_back(*kind);
  }
  return w;
}

}  // namespace

SqlWhere log_where(const LogFilter& f, const std::optional<std::string>& kind) {
  return where_of(f, kind, false);
}

SqlWhere request_log_where(const LogFilter& f) {
  return where_of(f, std::nullopt, true);
}

int bind_args(SQLite::Statement& st, const std::vector<SqlArg>& args, int first) {
  int i = first;
  for (const SqlArg& a : args) {
    if (const auto* n = std::get_if<std::int64_t>(&a)) {
      st.bind(i++, *n);
    } else {
      st.bind(i++, std::get<std::string>(a));
    }
  }
  return i;
}

void bind_optional(SQLite::Statement& st, int index, const std::optional<std::int64_t>& v) {
  if (v) {
    st.bind(index, *v);
  } else {
    st.bind(index);
  }
}

std::optional<std::int64_t> column_optional(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

SQLite::Statement& StatementCache::get(const std::string& sql) {
  std::unique_ptr<SQLite::Statement>& st = statements_[sql];
  if (!st) {
    st = std::make_unique<SQLite::Statement>(db_, sql);
  } else {
    st->reset();  // a batch that threw may have left it mid-step
    st->clearBindings();
  }
  return *st;
}

std::string placeholders(std::size_t n) {
  std::string s;
  s.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) s += i == 0 ? "?" : ",?";
  return s;
}

std::vector<std::vector<std::int64_t>> chunk_ids(const std::vector<std::int64_t>& ids,
                                                 std::size_t chunk) {
  std::vector<std::vector<std::int64_t>> out;
  for (std::size_t i = 0; i < ids.size(); i += chunk) {
    out.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(i),
                     ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + chunk)));
  }
  return out;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gemgate::storage::sqlite
