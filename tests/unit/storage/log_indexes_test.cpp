// The request log's partial indexes (schema v12): every admin filter still returns exactly the
// rows it names whatever the status (200, another 2xx, 1xx, 3xx, errors, 0) and instance (named
// or ''), on both stores; and on SQLite, EXPLAIN QUERY PLAN shows the filters an index serves
// using it (PostgreSQL's plans: postgres/pg_store_test.cpp).
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <doctest/doctest.h>
#include <string>
#include <vector>

#include "storage/sqlite/schema.h"
#include "storage/sqlite/sql_util.h"
#include "test_support.h"

namespace gemgate::storage {
namespace {

using testing::open_sqlite;
using testing::open_test_store;
using testing::TempDir;

// 240 rows at t = 1000, 1010, ...: statuses cycling through every kind the log holds, two
// named instances and unnamed rows, two keys and none, two models.
std::vector<RequestLogRow> mixed_rows() {
  static const int kStatus[] = {200, 200, 200, 201, 204, 101, 301, 404, 429, 500, 503, 0, 499};
  static const char* kInstance[] = {"", "gw-a", "", "gw-b", ""};
  std::vector<RequestLogRow> rows;
  for (int i = 0; i < 240; ++i) {
    RequestLogRow r;
    r.time_ms = 1000 + 10 * i;
    r.route = "gemini";
    r.method = "POST";
    r.model = i % 3 ? "gemini-2.5-flash" : "gemini-2.5-pro";
    r.path = "/v1beta/models/" + r.model + ":generateContent";
    if (i % 4 != 3) r.key_id = i % 4 + 1;
    if (i % 2) r.token_id = 7;
    r.status = kStatus[i % 13];
    r.instance_id = kInstance[i % 5];
    rows.push_back(r);
  }
  return rows;
}

bool matches(const LogFilter& f, const RequestLogRow& r) {
  return (!f.from_ms || r.time_ms >= *f.from_ms) && (!f.to_ms || r.time_ms < *f.to_ms) &&
         (!f.key_id || r.key_id == f.key_id) && (!f.model || r.model == *f.model) &&
         (!f.status || r.status == *f.status) &&
         (!f.status_class || r.status / 100 == *f.status_class) &&
         (!f.instance_id || r.instance_id == *f.instance_id);
}

// Every status, status class and instance filter the admin API can send, alone and combined
// with a time window, a key and a model.
std::vector<LogFilter> admin_filters() {
  std::vector<LogFilter> out;
  std::vector<LogFilter> base(4);
  base[1].from_ms = 1300;
  base[1].to_ms = 2900;
  base[2].key_id = 2;
  base[3].model = "gemini-2.5-pro";
  for (const LogFilter& b : base) {
    for (int s : {200, 201, 204, 101, 301, 404, 429, 500, 503, 0, 499, 302}) {
      LogFilter f = b;
      f.status = s;
      out.push_back(f);
    }
    for (int c = 0; c <= 5; ++c) {
      LogFilter f = b;
      f.status_class = c;
      out.push_back(f);
    }
    for (const char* inst : {"gw-a", "gw-b", "", "gw-none"}) {
      LogFilter f = b;
      f.instance_id = inst;
      out.push_back(f);
      f.status_class = 5;
      out.push_back(f);
      f.status_class = 2;
      out.push_back(f);
    }
    out.push_back(b);
  }
  return out;
}

TEST_CASE("request log (v12 partial indexes): every status and instance filter finds its rows") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  const auto rows = mixed_rows();
  REQUIRE(store->append_request_logs(rows).ok());
  for (const LogFilter& f : admin_filters()) {
    std::vector<Millis> expect;
    for (const RequestLogRow& r : rows) {
      if (matches(f, r)) expect.push_back(r.time_ms);
    }
    std::sort(expect.rbegin(), expect.rend());  // newest first, as pages list them
    auto page = store->query_request_logs(f, {1, kMaxPerPage});
    REQUIRE(page.ok());
    std::vector<Millis> got;
    for (const RequestLogRow& r : page->items) got.push_back(r.time_ms);
    INFO("status=", f.status.value_or(-1), " class=", f.status_class.value_or(-1),
         " instance=", f.instance_id.value_or("(none)"), " key=", f.key_id.value_or(-1),
         " model=", f.model.value_or("(none)"), " from=", f.from_ms.value_or(-1));
    CHECK(page->total == static_cast<std::int64_t>(expect.size()));
    CHECK(got == expect);
  }
  // A delete by a filter that excludes 200 removes exactly those rows too.
  LogFilter errors;
  errors.status_class = 5;
  const auto fives = std::count_if(rows.begin(), rows.end(),
                                   [](const RequestLogRow& r) { return r.status / 100 == 5; });
  REQUIRE(fives > 0);
  CHECK(store->delete_request_logs(errors).value() == fives);
  CHECK(store->query_request_logs({}, {1, kMaxPerPage}).value().total ==
        static_cast<std::int64_t>(rows.size()) - fives);
}

TEST_SUITE_BEGIN("sqlite-only");

// The plan SQLite picks for the listing and the count of request-log filter `f`, built by the
// same WHERE builder the store's queries use.
std::string plan_of(SQLite::Database& db, const LogFilter& f, bool count) {
  const sqlite::SqlWhere where = sqlite::request_log_where(f);
  const std::string sql = count ? "SELECT COUNT(*) FROM request_log" + where.sql
                                : "SELECT id FROM request_log" + where.sql +
                                      " ORDER BY time_ms DESC, id DESC LIMIT ? OFFSET ?";
  SQLite::Statement st(db, "EXPLAIN QUERY PLAN " + sql);
  sqlite::bind_args(st, where.args);
  std::string plan;
  while (st.executeStep()) plan += st.getColumn(3).getString() + "\n";
  return plan;
}

bool uses(const std::string& plan, const std::string& index) {
  return plan.find("INDEX " + index + " ") != std::string::npos ||
         plan.find("INDEX " + index + "\n") != std::string::npos;
}

TEST_CASE("request log (v12): filters excluding 200, and a named instance, use their indexes") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  auto store = open_sqlite(path);
  REQUIRE(store->append_request_logs(mixed_rows()).ok());
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  {
    SQLite::Statement st(db, "SELECT sql FROM sqlite_master WHERE name = 'request_log_by_status'");
    REQUIRE(st.executeStep());
    CHECK(st.getColumn(0).getString().find("WHERE status <> 200") != std::string::npos);
  }
  for (bool count : {false, true}) {
    CAPTURE(count);
    LogFilter s404;
    s404.status = 404;
    CHECK(uses(plan_of(db, s404, count), "request_log_by_status"));
    LogFilter c5;
    c5.status_class = 5;
    CHECK(uses(plan_of(db, c5, count), "request_log_by_status"));
    LogFilter c4_window = c5;
    c4_window.status_class = 4;
    c4_window.from_ms = 1500;
    const std::string windowed = plan_of(db, c4_window, count);
    CHECK((uses(windowed, "request_log_by_status") || uses(windowed, "request_log_by_time")));
    // 200 is not in the status index: the time index (or a scan, for a count) answers it.
    LogFilter s200;
    s200.status = 200;
    CHECK_FALSE(uses(plan_of(db, s200, count), "request_log_by_status"));
    LogFilter inst;
    inst.instance_id = "gw-a";
    CHECK(uses(plan_of(db, inst, count), "request_log_by_instance"));
    LogFilter model;
    model.model = "gemini-2.5-pro";
    CHECK(uses(plan_of(db, model, count), "request_log_by_model"));
    LogFilter key;
    key.key_id = 2;
    CHECK(uses(plan_of(db, key, count), "request_log_by_key"));
  }
  // One token's statistics read that token's rows through its partial index.
  SQLite::Statement token(db,
                          "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM request_log WHERE token_id = "
                          "? AND time_ms >= ? AND time_ms < ?");
  std::string plan;
  while (token.executeStep()) plan += token.getColumn(3).getString() + "\n";
  CHECK(uses(plan, "request_log_by_token"));
}

TEST_CASE("migrations: v12 makes a v11 database's status index partial; its rows stay found") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& step : sqlite::migrations()) {
      if (step.version > 11) break;
      raw.exec(step.sql);
    }
    raw.exec("PRAGMA application_id = " + std::to_string(sqlite::kApplicationId));
    raw.exec("PRAGMA user_version = 11");
    for (int status : {200, 404, 503}) {
      raw.exec(
          "INSERT INTO request_log (time_ms, route, method, path, model, status, latency_ms, "
          "attempts, stream, prompt_tokens, completion_tokens, thoughts_tokens, cached_tokens, "
          "total_tokens, error) VALUES (1000, 'gemini', 'POST', '/v1beta/x', 'm', " +
          std::to_string(status) + ", 5, 1, 0, 0, 0, 0, 0, 0, '')");
    }
  }
  auto store = open_sqlite(path);
  CHECK(store->schema_version().value() == sqlite::latest_schema_version());
  for (int status : {200, 404, 503}) {
    LogFilter f;
    f.status = status;
    auto page = store->query_request_logs(f, {});
    REQUIRE(page.ok());
    REQUIRE(page->items.size() == 1);
    CHECK(page->items[0].status == status);
  }
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  CHECK(raw.execAndGet("SELECT COUNT(*) FROM request_log INDEXED BY request_log_by_status "
                       "WHERE status <> 200")
            .getInt() == 2);  // the two non-200 rows, and only them, are in the rebuilt index
}

TEST_SUITE_END();

}  // namespace
}  // namespace gemgate::storage
