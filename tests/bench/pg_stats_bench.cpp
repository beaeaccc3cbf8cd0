// Statistics and log queries at scale on PostgreSQL: the twin of stats_bench.cpp (SQLite). Fills
// a fresh database with N request-log rows (default 3 000 000) over 30 days, 1000 keys and 4
// models, a fifth in the last hour, plus their rollups, then times the dashboard's queries
// through PgStore. Prints the figures; asserts nothing (timing goals are not tests).
//
// Usage: bench_stats_pg <postgres-url-of-an-empty-database> [rows]
//        tests/bench/stats-both.sh [rows]     (both stores, one command, own server)
//
// The bulk is written with set-based SQL (generate_series and INSERT … SELECT … GROUP BY, the
// sums add_to_usage_rollups() keeps); the last 20 000 rows go through the real append path.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/log.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"

using namespace gemgate;
using namespace gemgate::storage;

namespace {

constexpr Millis kHour = 3'600'000;
constexpr Millis kDay = 24 * kHour;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

template <class F>
double median_ms(int runs, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(ms_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

bool run(pg::Connection& db, const std::string& sql) {
  auto r = db.exec_script(sql);
  if (!r.ok()) std::fprintf(stderr, "%s\n", r.error().message.c_str());
  return r.ok();
}

bool fill(pg::Connection& db, long long rows, Millis now) {
  const long long recent = rows / 5, old = rows - recent;
  auto gen = [](long long count, Millis from, Millis span) {
    return "INSERT INTO request_log (time_ms, route, method, path, model, key_id, token_id, "
           "status, latency_ms, prompt_tokens, completion_tokens, total_tokens) SELECT " +
           std::to_string(from) + " + i * " + std::to_string(span) + " / " +
           std::to_string(std::max(count, 1LL)) +
           ", '/v1beta', 'POST', '/v1beta/models/x:generateContent', CASE i % 4 WHEN 0 THEN "
           "'gemini-2.5-flash' WHEN 1 THEN 'gemini-2.5-pro' WHEN 2 THEN 'gemini-2.0-flash' ELSE "
           "'text-embedding-004' END, 1 + (i * 7919) % 1000, 1, CASE WHEN i % 17 = 0 THEN 429 "
           "ELSE 200 END, 300, i % 1000, i % 500, i % 1000 + i % 500 FROM "
           "generate_series(1::bigint, " +
           std::to_string(count) + ") AS i";
  };
  return run(db, "SET synchronous_commit = off") &&
         run(db, gen(old, now - 30 * kDay, 30 * kDay - kHour)) &&
         run(db, gen(recent, now - kHour, kHour - 20'000));
}

bool rollup(pg::Connection& db, Millis now) {
  const std::string sums =
      "count(*), sum(CASE WHEN status >= 400 OR status = 0 THEN 1 ELSE 0 END), "
      "sum(prompt_tokens), sum(completion_tokens), sum(total_tokens) FROM request_log ";
  const std::string recent = " WHERE time_ms >= " + std::to_string(now - 3 * kHour);
  return run(db, "INSERT INTO usage_hourly_model SELECT time_ms / 3600000 * 3600000, model, " +
                     sums + "GROUP BY 1, 2") &&
         run(db, "INSERT INTO usage_hourly_key SELECT time_ms / 3600000 * 3600000, key_id, " +
                     sums + "WHERE key_id IS NOT NULL GROUP BY 1, 2") &&
         run(db, "INSERT INTO usage_daily_key SELECT time_ms / 86400000 * 86400000, key_id, " +
                     sums + "WHERE key_id IS NOT NULL GROUP BY 1, 2") &&
         run(db, "INSERT INTO usage_second_model SELECT time_ms / 1000 * 1000, model, " + sums +
                     recent + " GROUP BY 1, 2") &&
         run(db, "INSERT INTO usage_minute_key SELECT time_ms / 60000 * 60000, key_id, " + sums +
                     recent + " AND key_id IS NOT NULL GROUP BY 1, 2") &&
         run(db, "VACUUM ANALYZE");
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::kWarn);
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_stats_pg <postgres-url-of-an-empty-database> [rows]\n");
    return 2;
  }
  const std::string url = argv[1];
  const long long rows = argc > 2 ? std::atoll(argv[2]) : 3'000'000;
  const Millis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  MasterKeyOptions key;
  key.env_value = std::string(64, 'b');
  auto t0 = std::chrono::steady_clock::now();
  auto opened = PgStore::open(url, key);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  {
    auto raw = pg::Connection::open(url);
    if (!raw.ok() || !fill(**raw, rows - 20'000, now) || !rollup(**raw, now - 20'000)) return 1;
  }
  std::vector<RequestLogRow> tail(500);
  std::vector<double> append_ms;
  for (int b = 0; b < 40; ++b) {  // the last 20 000 rows through the real append path
    for (int i = 0; i < 500; ++i) {
      RequestLogRow& r = tail[static_cast<std::size_t>(i)];
      r.time_ms = now - 20'000 + b * 500 + i;
      r.model = "gemini-2.5-flash";
      r.key_id = 1 + (b * 500 + i) % 1000;
      r.status = 200;
      r.total_tokens = 10;
    }
    auto a0 = std::chrono::steady_clock::now();
    if (!store->append_request_logs(tail).ok()) return 1;
    append_ms.push_back(ms_since(a0));
  }
  std::sort(append_ms.begin(), append_ms.end());
  std::printf("[postgres] filled %lld request_log rows (+ rollups) in %.1f s\n", rows,
              ms_since(t0) / 1000.0);
  std::printf("[postgres] append_request_logs 500 rows + rollups  %8.2f ms (median of 40)\n",
              append_ms[append_ms.size() / 2]);
  for (auto [name, window] : {std::pair{"1m", Millis{60'000}}, std::pair{"1h", kHour},
                              std::pair{"24h", kDay}, std::pair{"30d", 30 * kDay}}) {
    std::int64_t requests = 0;
    const double ms = median_ms(5, [&, w = window] {
      auto s = store->usage_stats({now, w, 60});
      requests = s.ok() ? s->totals.requests : -1;
    });
    std::printf("[postgres] usage_stats window=%-3s %8.2f ms (median of 5)  requests=%lld\n", name,
                ms, static_cast<long long>(requests));
  }
  std::vector<std::int64_t> page;
  for (int i = 1; i <= 50; ++i) page.push_back(i);
  std::printf("[postgres] key_usage 50 keys, 24 h  %8.2f ms\n",
              median_ms(5, [&] { (void)store->key_usage(page, now - kDay, now); }));
  LogFilter by_key;
  by_key.key_id = 7;
  LogFilter last_hour;
  last_hour.from_ms = now - kHour;
  last_hour.status_class = 4;
  for (auto [name, filter] : {std::pair{"all", LogFilter{}}, std::pair{"key=7", by_key},
                              std::pair{"1h 4xx", last_hour}}) {
    std::int64_t total = 0;
    const double ms = median_ms(3, [&, f = filter] {
      auto p = store->query_request_logs(f, {1, 50});
      total = p.ok() ? p->total : -1;
    });
    std::printf("[postgres] query_request_logs %-6s page 1 + total %8.2f ms  total=%lld\n", name,
                ms, static_cast<long long>(total));
  }
  return 0;
}
