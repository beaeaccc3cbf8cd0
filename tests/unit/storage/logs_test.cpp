// Request and error logs: appends, filtered pages, deletes and retention.
#include <doctest/doctest.h>

#include "test_support.h"

namespace gemgate::storage {
namespace {

using testing::open_test_store;
using testing::TempDir;

RequestLogRow req(Millis t, std::optional<std::int64_t> key, const std::string& model, int status) {
  RequestLogRow r;
  r.time_ms = t;
  r.route = "gemini";
  r.method = "POST";
  r.path = "/v1beta/models/" + model + ":generateContent";
  r.model = model;
  r.key_id = key;
  r.status = status;
  r.latency_ms = 120;
  r.prompt_tokens = 10;
  r.completion_tokens = 20;
  r.total_tokens = 30;
  return r;
}

// 100 rows at t = 1000, 1010, ...; key (i % 4) + 1 (key 4 → none), model alternating, status
// cycling 200, 200, 429, 500, 404.
std::vector<RequestLogRow> sample_rows() {
  static const int kStatus[] = {200, 200, 429, 500, 404};
  std::vector<RequestLogRow> rows;
  for (int i = 0; i < 100; ++i) {
    std::optional<std::int64_t> key;
    if (i % 4 != 3) key = i % 4 + 1;
    rows.push_back(
        req(1000 + 10 * i, key, i % 2 ? "gemini-2.5-pro" : "gemini-2.5-flash", kStatus[i % 5]));
  }
  return rows;
}

TEST_CASE("request logs: rows round-trip, newest first, cleaned on the way in") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  RequestLogRow r = req(5000, 7, "gemini-2.5-flash", 200);
  r.path =
      "/v1beta/models/"
      "gemini-2.5-flash:streamGenerateContent?alt=sse&key=AIzaSyQUERYSECRETxxxxxxxxxxxxxxxxxxxxxx";
  r.token_id = 3;
  r.stream = true;
  r.attempts = 2;
  r.thoughts_tokens = 5;
  r.cached_tokens = 4;
  r.error = "upstream said: API key AIzaSyERRORSECRETxxxxxxxxxxxxxxxxxxxxxx not valid";
  r.request_id = "client-trace-0001";
  REQUIRE(store->append_request_logs({req(4000, std::nullopt, "", 0), r}).ok());

  auto page = store->query_request_logs({}, {}).value();
  CHECK(page.total == 2);
  REQUIRE(page.items.size() == 2);
  const RequestLogRow& got = page.items[0];
  CHECK(got.time_ms == 5000);
  CHECK(got.id > 0);
  CHECK(got.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
  CHECK(got.key_id == 7);
  CHECK(got.token_id == 3);
  CHECK(got.stream);
  CHECK(got.attempts == 2);
  CHECK(got.thoughts_tokens == 5);
  CHECK(got.cached_tokens == 4);
  CHECK(got.latency_ms == 120);
  CHECK(got.error.find("ERRORSECRET") == std::string::npos);
  CHECK(got.error.find("not valid") != std::string::npos);
  CHECK(got.request_id == "client-trace-0001");
  CHECK(page.items[1].request_id.empty());
  CHECK_FALSE(page.items[1].key_id.has_value());
  CHECK(page.items[1].status == 0);
}

TEST_CASE("request logs: one row needing cleaning in a batch of clean ones is still cleaned") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  std::vector<RequestLogRow> rows = sample_rows();
  rows.back().path += "?key=AIzaSyQUERYSECRETxxxxxxxxxxxxxxxxxxxxxx";
  rows.back().total_tokens = -5;
  REQUIRE(store->append_request_logs(rows).ok());
  auto page = store->query_request_logs({}, {1, 2}).value();
  CHECK(page.total == 100);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].path == rows.back().path.substr(0, rows.back().path.find('?')));
  CHECK(page.items[0].total_tokens == 0);
  CHECK(page.items[1].path == rows[98].path);  // the clean ones as they came
  CHECK(page.items[1].total_tokens == rows[98].total_tokens);
}

TEST_CASE("request logs: a long batch keeps every row, its order, its fields and failed keys") {
  // SQLite writes runs of plain rows 128 and 16 to a statement and the rest one by one; sizes
  // around those runs, failover rows breaking them, and a dirty row inside one.
  for (int n : {1, 15, 16, 17, 127, 128, 129, 300, 2000}) {
    CAPTURE(n);
    TempDir dir;
    auto store = open_test_store(dir.file("gemgate.db"));
    std::vector<RequestLogRow> rows;
    for (int i = 0; i < n; ++i) {
      RequestLogRow r = req(1000 + i, i % 7 + 1, "m" + std::to_string(i % 3), 200 + i % 5);
      r.token_id = i % 2 ? std::optional<std::int64_t>(i) : std::nullopt;
      r.request_id = "req-" + std::to_string(i);
      r.prompt_tokens = i;
      r.stream = i % 3 == 0;
      if (i % 41 == 40) r.failed_key_ids = {100 + i, 200 + i};
      if (i == n / 2) r.path += "?key=AIzaSyQUERYSECRETxxxxxxxxxxxxxxxxxxxxxx";
      rows.push_back(r);
    }
    REQUIRE(store->append_request_logs(rows).ok());
    auto page = store->query_request_logs({}, {1, kMaxPerPage}).value();
    REQUIRE(page.total == n);
    std::int64_t last_id = INT64_MAX;
    for (std::size_t k = 0; k < page.items.size(); ++k) {
      const RequestLogRow& got = page.items[k];
      const RequestLogRow& want = rows[n - 1 - k];  // newest first
      CHECK(got.id < last_id);                      // ids follow the batch's order
      last_id = got.id;
      CHECK(got.time_ms == want.time_ms);
      CHECK(got.request_id == want.request_id);
      CHECK(got.key_id == want.key_id);
      CHECK(got.token_id == want.token_id);
      CHECK(got.model == want.model);
      CHECK(got.status == want.status);
      CHECK(got.prompt_tokens == want.prompt_tokens);
      CHECK(got.stream == want.stream);
      CHECK(got.failed_key_ids == want.failed_key_ids);
      CHECK(got.path.find('?') == std::string::npos);
    }
    LogFilter failed_key;
    failed_key.key_id = 100 + 40;
    CHECK(store->query_request_logs(failed_key, {}).value().total == (n > 40 ? 1 : 0));
    auto stats = store->usage_stats({1000 + n, n + 1, 10}).value();
    CHECK(stats.totals.requests == n);  // the rollups saw each row once
  }
}

TEST_CASE(
    "request logs: a key filter finds the requests where that key failed before another answered") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  RequestLogRow failover = req(1000, 3, "gemini-2.5-flash", 200);
  failover.attempts = 3;
  failover.failed_key_ids = {2, 1, 2};  // kept once each, in id order
  RequestLogRow served = req(2000, 1, "gemini-2.5-flash", 200);
  RequestLogRow other = req(3000, 4, "gemini-2.5-flash", 200);
  REQUIRE(store->append_request_logs({failover, served, other}).ok());
  // The start-up checks accept the new rows (SQLite 3.40's quick_check misreads a WITHOUT ROWID
  // table whose key is not in column order, which v4 had to avoid).
  CHECK(store->check_integrity(false).ok());
  CHECK(store->check_integrity(true).ok());

  auto by_key = [&](std::int64_t key) {
    LogFilter f;
    f.key_id = key;
    return store->query_request_logs(f, {}).value();
  };
  auto one = by_key(1);  // served by key 1, and key 1 failed in the failover
  CHECK(one.total == 2);
  REQUIRE(one.items.size() == 2);
  CHECK(one.items[0].key_id == 1);
  CHECK(one.items[0].failed_key_ids.empty());
  CHECK(one.items[1].key_id == 3);
  CHECK(one.items[1].failed_key_ids == std::vector<std::int64_t>{1, 2});
  CHECK(by_key(2).total == 1);
  CHECK(by_key(3).total == 1);
  CHECK(by_key(4).total == 1);
  CHECK(by_key(5).total == 0);

  // Deleting by that filter takes the same rows; the failed-key rows go with them.
  LogFilter f;
  f.key_id = 2;
  CHECK(store->delete_request_logs(f).value() == 1);
  CHECK(by_key(1).total == 1);
  CHECK(by_key(2).total == 0);
  CHECK(store->delete_request_logs({}).value() == 2);
  REQUIRE(store->append_request_logs({req(4000, 5, "m", 200)}).ok());
  CHECK(by_key(1).total == 0);  // a new row never inherits a deleted row's failed keys
}

TEST_CASE("request logs: paging boundaries") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->append_request_logs(sample_rows()).ok());

  auto p1 = store->query_request_logs({}, {1, 30}).value();
  CHECK(p1.total == 100);
  REQUIRE(p1.items.size() == 30);
  CHECK(p1.items.front().time_ms == 1990);
  CHECK(p1.items.back().time_ms == 1700);
  auto p4 = store->query_request_logs({}, {4, 30}).value();
  REQUIRE(p4.items.size() == 10);  // the partial last page
  CHECK(p4.items.back().time_ms == 1000);
  auto p5 = store->query_request_logs({}, {5, 30}).value();
  CHECK(p5.items.empty());
  CHECK(p5.total == 100);

  auto clamped = store->query_request_logs({}, {0, 100000}).value();
  CHECK(clamped.page == 1);
  CHECK(clamped.per_page == kMaxPerPage);
  CHECK(clamped.items.size() == 100);
  CHECK(store->query_request_logs({}, {1, 0}).value().items.size() == 1);

  // Same timestamp: the later insert (higher id) comes first.
  REQUIRE(store->append_request_logs({req(5000, 1, "a", 200), req(5000, 1, "b", 200)}).ok());
  auto tie = store->query_request_logs({}, {1, 2}).value();
  CHECK(tie.items[0].model == "b");
  CHECK(tie.items[1].model == "a");
}

TEST_CASE("request logs: filters alone and combined") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  const auto rows = sample_rows();
  REQUIRE(store->append_request_logs(rows).ok());
  auto count = [&](const LogFilter& f) {
    std::int64_t expect = 0;
    for (const RequestLogRow& r : rows) {
      bool ok = (!f.from_ms || r.time_ms >= *f.from_ms) && (!f.to_ms || r.time_ms < *f.to_ms) &&
                (!f.key_id || r.key_id == f.key_id) && (!f.model || r.model == *f.model) &&
                (!f.status || r.status == *f.status) &&
                (!f.status_class || r.status / 100 == *f.status_class);
      expect += ok ? 1 : 0;
    }
    auto page = store->query_request_logs(f, {1, kMaxPerPage}).value();
    CHECK(page.total == expect);
    CHECK(static_cast<std::int64_t>(page.items.size()) == expect);
    for (std::size_t i = 1; i < page.items.size(); ++i) {
      CHECK(page.items[i - 1].time_ms >= page.items[i].time_ms);
    }
    return expect;
  };
  LogFilter f;
  f.from_ms = 1200;
  f.to_ms = 1500;
  CHECK(count(f) == 30);  // [from, to)
  LogFilter k;
  k.key_id = 2;
  CHECK(count(k) == 25);
  LogFilter m;
  m.model = "gemini-2.5-pro";
  CHECK(count(m) == 50);
  LogFilter s;
  s.status = 429;
  CHECK(count(s) == 20);
  LogFilter c;
  c.status_class = 4;
  CHECK(count(c) == 40);
  LogFilter all;
  all.from_ms = 1100;
  all.to_ms = 1900;
  all.key_id = 1;
  all.model = "gemini-2.5-flash";
  all.status_class = 2;
  CHECK(count(all) > 0);
  LogFilter none;
  none.model = "no-such-model";
  CHECK(count(none) == 0);
}

TEST_CASE("request logs: delete by ids, by filter, all; prune by age") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->append_request_logs(sample_rows()).ok());
  auto newest = store->query_request_logs({}, {1, 3}).value().items;
  CHECK(store->delete_request_logs_by_ids({newest[0].id, newest[1].id, 99999}).value() == 2);
  CHECK(store->query_request_logs({}, {}).value().total == 98);

  LogFilter five;
  five.status_class = 5;
  CHECK(store->delete_request_logs(five).value() == 19);  // one 5xx row was deleted by id
  CHECK(store->query_request_logs(five, {}).value().total == 0);

  CHECK(store->prune_request_logs(1300).value() == 24);  // 30 rows before t=1300, 6 were 5xx
  auto rest = store->query_request_logs({}, {1, kMaxPerPage}).value();
  for (const RequestLogRow& r : rest.items) CHECK(r.time_ms >= 1300);
  CHECK(store->delete_request_logs({}).value() == rest.total);
  CHECK(store->query_request_logs({}, {}).value().total == 0);
}

TEST_CASE("request logs: a large delete by filter runs in chunks and counts every row") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  std::vector<RequestLogRow> rows;
  for (int i = 0; i < 12'345; ++i) rows.push_back(req(i, 1, i % 3 ? "keep" : "drop", 200));
  REQUIRE(store->append_request_logs(rows).ok());
  LogFilter drop;
  drop.model = "drop";
  CHECK(store->delete_request_logs(drop).value() == 4115);
  CHECK(store->query_request_logs({}, {}).value().total == 12'345 - 4115);
}

TEST_CASE("error logs: round-trip, kind filter, delete, prune") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  std::vector<ErrorLogRow> rows;
  const char* kinds[] = {"quota", "key_invalid", "upstream_5xx", "timeout"};
  for (int i = 0; i < 40; ++i) {
    ErrorLogRow e;
    e.time_ms = 1000 + i;
    if (i % 2 == 0) e.key_id = i % 5 + 1;
    e.model = "gemini-2.5-flash";
    e.status = i % 4 == 2 ? 503 : 429;
    e.kind = kinds[i % 4];
    e.message = "key AIzaSyMSGSECRETxxxxxxxxxxxxxxxxxxxxxxxxx rejected";
    e.route = "openai";
    rows.push_back(e);
  }
  REQUIRE(store->append_error_logs(rows).ok());
  auto page = store->query_error_logs({}, {1, 10}).value();
  CHECK(page.total == 40);
  REQUIRE(page.items.size() == 10);
  CHECK(page.items[0].time_ms == 1039);
  CHECK(page.items[0].route == "openai");
  CHECK(page.items[0].message.find("MSGSECRET") == std::string::npos);

  ErrorLogFilter quota;
  quota.kind = "quota";
  CHECK(store->query_error_logs(quota, {}).value().total == 10);
  ErrorLogFilter quota_key;
  quota_key.kind = "quota";
  quota_key.key_id = 1;
  CHECK(store->query_error_logs(quota_key, {}).value().total == 2);  // i = 0, 20
  ErrorLogFilter five;
  five.status_class = 5;
  CHECK(store->query_error_logs(five, {}).value().total == 10);

  CHECK(store->delete_error_logs(quota).value() == 10);
  CHECK(store->delete_error_logs_by_ids({page.items[0].id}).value() == 1);
  CHECK(store->prune_error_logs(1010).value() == 7);  // 1000..1009 minus 3 quota rows
  CHECK(store->query_error_logs({}, {}).value().total == 40 - 10 - 1 - 7);
  CHECK(store->delete_error_logs({}).value() == 22);
}

}  // namespace
}  // namespace gemgate::storage
