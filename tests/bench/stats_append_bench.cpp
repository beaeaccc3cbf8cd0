// Statistics through the real write path: appends N random request-log rows (default 200 000:
// 1000 keys, 4 models, 30 days) with SqliteStore::append_request_logs() in 500-row transactions,
// so every rollup upsert is part of the insert time, then times the admin dashboard's queries,
// the same per-key breakdown straight from the raw log for comparison, and a reopen (with its
// quick_check). Prints the figures; asserts nothing (timing goals are not tests). bench_stats
// covers the 5 M-row scale, where this path would take minutes.
//
// Usage: bench_stats_append [rows] [file]     (file default: a temp file, removed afterwards)
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
#include "tests/support/log_rows.h"

using namespace gemgate;
using namespace gemgate::storage;

namespace {

constexpr Millis kMinute = 60'000;
constexpr Millis kHour = 60 * kMinute;
constexpr Millis kDay = 24 * kHour;
constexpr Millis kNow = 1'700'000'123'456;  // not on a minute or hour edge

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// `n` rows over the `span` before kNow + 1 h, in time order (as they arrive in production), with
// a mix of statuses, models (one in four unnamed) and keys (1..keys, or none).
std::vector<RequestLogRow> random_rows(int n, Millis span, int keys) {
  auto rows = testing::random_log_rows(n, 1, kNow + kHour, span, keys);
  std::sort(rows.begin(), rows.end(),
            [](const RequestLogRow& a, const RequestLogRow& b) { return a.time_ms < b.time_ms; });
  return rows;
}

int fail(const char* what, const Error& e) {
  std::fprintf(stderr, "%s: %s\n", what, e.message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::kWarn);
  const int n = argc > 1 ? std::atoi(argv[1]) : 200'000;
  const bool temp = argc <= 2;
  const std::string path =
      temp ? (std::filesystem::temp_directory_path() / "gemgate-bench-stats-append/gemgate.db")
                 .string()
           : argv[2];
  if (temp) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  auto opened = SqliteStore::open(path);
  if (!opened.ok()) return fail("open", opened.error());
  auto store = std::move(opened).value();

  const auto rows = random_rows(n, 30 * kDay, 1000);
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < rows.size(); i += 500) {
    const std::size_t end = std::min(rows.size(), i + 500);
    if (auto r = store->append_request_logs({rows.begin() + i, rows.begin() + end}); !r.ok()) {
      return fail("append_request_logs", r.error());
    }
  }
  std::printf("%d rows inserted in 500-row transactions: %.0f ms\n", n, ms_since(t0));

  for (Millis window : {kMinute, kHour, kDay, 30 * kDay}) {
    t0 = std::chrono::steady_clock::now();
    auto s = store->usage_stats({kNow, window, 60});
    const double took = ms_since(t0);
    if (!s.ok()) return fail("usage_stats", s.error());
    std::printf("usage_stats window %lld min: %.2f ms (%lld requests, %zu keys)\n",
                static_cast<long long>(window / kMinute), took,
                static_cast<long long>(s->totals.requests), s->by_key.size());
  }
  std::vector<std::int64_t> page;
  for (int i = 1; i <= 50; ++i) page.push_back(i * 17);
  t0 = std::chrono::steady_clock::now();
  if (auto r = store->key_usage(page, kNow - kDay, kNow); !r.ok())
    return fail("key_usage", r.error());
  std::printf("key_usage 50 keys, 24 h: %.2f ms\n", ms_since(t0));
  t0 = std::chrono::steady_clock::now();
  if (auto r = store->query_request_logs({}, {1, 50}); !r.ok()) return fail("query", r.error());
  std::printf("query_request_logs page 1 (with total): %.2f ms\n", ms_since(t0));
  LogFilter by_key;
  by_key.key_id = 500;
  t0 = std::chrono::steady_clock::now();
  if (auto r = store->query_request_logs(by_key, {2, 50}); !r.ok()) return fail("query", r.error());
  std::printf("query_request_logs key filter page 2: %.2f ms\n", ms_since(t0));
  try {
    // For comparison: the same 30-day per-key breakdown straight from the raw log.
    SQLite::Database raw(path);
    t0 = std::chrono::steady_clock::now();
    SQLite::Statement st(raw,
                         "SELECT key_id, count(*), sum(total_tokens) FROM request_log "
                         "WHERE time_ms >= ? AND time_ms < ? GROUP BY key_id");
    st.bind(1, kNow - 30 * kDay);
    st.bind(2, kNow);
    int groups = 0;
    while (st.executeStep()) ++groups;
    std::printf(
        "raw-log GROUP BY key over 30 days (no rollup), for comparison: %.2f ms (%d groups)\n",
        ms_since(t0), groups);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raw query: %s\n", e.what());
    return 1;
  }
  store.reset();
  {
    t0 = std::chrono::steady_clock::now();
    auto reopened = SqliteStore::open(path);  // includes PRAGMA quick_check over the whole file
    if (!reopened.ok()) return fail("reopen", reopened.error());
    std::printf("reopen with quick_check, %ju MiB file: %.2f ms\n",
                static_cast<std::uintmax_t>(std::filesystem::file_size(path) / (1024 * 1024)),
                ms_since(t0));
  }  // closed before the file is removed
  if (temp) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  return 0;
}
