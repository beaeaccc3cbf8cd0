// Statistics at scale: fills a real SQLite file with N request-log rows (default 5 000 000) over
// 30 days, 1000 keys and 4 models, a fifth of them in the last hour (a flood, the case that
// made v1's raw-row window ends take seconds), plus their rollups, then times the admin
// dashboard's queries through SqliteStore. Prints the figures; asserts nothing (timing goals
// are not tests). The goal: every usage_stats window answers in < 100 ms at 5 M rows.
//
// Usage: bench_stats [rows] [file]     (file default: a temp file, removed afterwards)
//
// The bulk of the rows and the rollups are written with set-based SQL (a recursive CTE and
// INSERT … SELECT … GROUP BY, the same sums add_to_usage_rollups() keeps), because 5 M rows
// through append_request_logs() would take minutes; the last 20 000 rows go through the real
// append path, so the rollup upserts are part of what is measured.
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/log.h"
#include "storage/sqlite/sqlite_store.h"

using namespace gemgate;
using namespace gemgate::storage;

namespace {

constexpr Millis kHour = 3'600'000;
constexpr Millis kDay = 24 * kHour;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Fills request_log with `rows` rows: 80 % spread over 30 days, 20 % in the last hour.
void fill(SQLite::Database& db, long long rows, Millis now) {
  const long long recent = rows / 5, old = rows - recent;
  const std::string gen =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
      "INSERT INTO request_log (time_ms, route, method, path, model, key_id, token_id, status, "
      "latency_ms, prompt_tokens, completion_tokens, total_tokens) "
      "SELECT ? + i * ? / ?, '/v1beta', 'POST', '/v1beta/models/x:generateContent', "
      "CASE i % 4 WHEN 0 THEN 'gemini-2.5-flash' WHEN 1 THEN 'gemini-2.5-pro' "
      "WHEN 2 THEN 'gemini-2.0-flash' ELSE 'text-embedding-004' END, "
      "1 + (i * 7919) % 1000, 1, CASE WHEN i % 17 = 0 THEN 429 ELSE 200 END, 300, "
      "i % 1000, i % 500, i % 1000 + i % 500 FROM n";
  for (auto [count, from, span] : {std::tuple{old, now - 30 * kDay, 30 * kDay - kHour},
                                   std::tuple{recent, now - kHour, kHour - 20'000}}) {
    SQLite::Transaction tx(db);
    SQLite::Statement st(db, gen);
    st.bind(1, static_cast<std::int64_t>(count));
    st.bind(2, from);
    st.bind(3, span);
    st.bind(4, static_cast<std::int64_t>(std::max(count, 1LL)));
    st.exec();
    tx.commit();
  }
}

// The rollups of everything in request_log, as the log writer would have kept them.
void rollup(SQLite::Database& db, Millis now) {
  const std::string sums =
      "count(*), sum(CASE WHEN status >= 400 OR status = 0 THEN 1 ELSE 0 END), "
      "sum(prompt_tokens), sum(completion_tokens), sum(total_tokens) FROM request_log ";
  const std::string recent = " WHERE time_ms >= " + std::to_string(now - 3 * kHour);
  SQLite::Transaction tx(db);
  db.exec("INSERT INTO usage_hourly_model SELECT time_ms / 3600000 * 3600000, model, " + sums +
          "GROUP BY 1, 2");
  db.exec("INSERT INTO usage_hourly_key SELECT time_ms / 3600000 * 3600000, key_id, " + sums +
          "WHERE key_id IS NOT NULL GROUP BY 1, 2");
  db.exec("INSERT INTO usage_daily_key SELECT time_ms / 86400000 * 86400000, key_id, " + sums +
          "WHERE key_id IS NOT NULL GROUP BY 1, 2");
  db.exec("INSERT INTO usage_second_model SELECT time_ms / 1000 * 1000, model, " + sums + recent +
          " GROUP BY 1, 2");
  db.exec("INSERT INTO usage_minute_key SELECT time_ms / 60000 * 60000, key_id, " + sums + recent +
          " AND key_id IS NOT NULL GROUP BY 1, 2");
  tx.commit();
}

// Median of `runs` timings of f().
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

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::kWarn);
  const long long rows = argc > 1 ? std::atoll(argv[1]) : 5'000'000;
  const bool temp = argc <= 2;
  const std::string path =
      temp ? (std::filesystem::temp_directory_path() / "gemgate-bench-stats/gemgate.db").string()
           : argv[2];
  if (temp) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  const Millis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  auto t0 = std::chrono::steady_clock::now();
  {
    auto store = SqliteStore::open(path);
    if (!store.ok()) {
      std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
      return 1;
    }
  }
  try {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA synchronous = OFF");
    db.exec("PRAGMA cache_size = -262144");
    fill(db, rows - 20'000, now);
    rollup(db, now - 20'000);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fill: %s\n", e.what());
    return 1;
  }
  auto store = std::move(SqliteStore::open(path)).value();
  std::vector<RequestLogRow> tail(500);
  for (int b = 0; b < 40; ++b) {  // the last 20 000 rows through the real append path
    for (int i = 0; i < 500; ++i) {
      RequestLogRow& r = tail[static_cast<std::size_t>(i)];
      r.time_ms = now - 20'000 + b * 500 + i;
      r.model = "gemini-2.5-flash";
      r.key_id = 1 + (b * 500 + i) % 1000;
      r.status = 200;
      r.total_tokens = 10;
    }
    if (!store->append_request_logs(tail).ok()) return 1;
  }
  const auto size_mb = static_cast<double>(std::filesystem::file_size(path) +
                                           (std::filesystem::exists(path + "-wal")
                                                ? std::filesystem::file_size(path + "-wal")
                                                : 0)) /
                       (1024.0 * 1024.0);
  std::printf("filled %lld request_log rows (+ rollups) in %.1f s, %.0f MiB: %s\n", rows,
              ms_since(t0) / 1000.0, size_mb, path.c_str());

  bool fast = true;
  for (auto [name, window] : {std::pair{"1m", Millis{60'000}}, std::pair{"1h", kHour},
                              std::pair{"24h", kDay}, std::pair{"30d", 30 * kDay}}) {
    std::int64_t requests = 0;
    const double ms = median_ms(5, [&, w = window] {
      auto s = store->usage_stats({now, w, 60});
      requests = s.ok() ? s->totals.requests : -1;
    });
    fast = fast && ms < 100;
    std::printf("usage_stats window=%-3s %8.2f ms (median of 5)  requests=%lld\n", name, ms,
                static_cast<long long>(requests));
  }
  std::vector<std::int64_t> page;
  for (int i = 1; i <= 50; ++i) page.push_back(i);
  std::printf("key_usage 50 keys, 24 h  %8.2f ms\n",
              median_ms(5, [&] { (void)store->key_usage(page, now - kDay, now); }));
  std::printf("stats goal (< 100 ms for every window at this size): %s\n", fast ? "met" : "MISSED");
  store.reset();

  // For comparison, what schema v1 also read for window=24h: its ragged ends (under an hour at
  // each end) straight from request_log, once each for by_key, by_model and the series.
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    const Millis from = now - kDay, to = now;
    const Millis a = (from / kHour + 1) * kHour, b = to / kHour * kHour;
    const double ms = median_ms(3, [&] {
      for (const char* group : {"key_id", "model", "time_ms / 3600000"}) {
        SQLite::Statement st(db, std::string("SELECT ") + group +
                                     ", count(*), sum(total_tokens) FROM request_log WHERE "
                                     "(time_ms >= ? AND time_ms < ?) OR (time_ms >= ? AND "
                                     "time_ms < ?) GROUP BY 1");
        st.bind(1, from);
        st.bind(2, a);
        st.bind(3, b);
        st.bind(4, to);
        while (st.executeStep()) {
        }
      }
    });
    std::printf("v1's raw-row window ends for 24h (what rollups replace): %8.2f ms\n", ms);
  }
  if (temp) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  return 0;
}
