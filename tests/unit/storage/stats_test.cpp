// Usage statistics: windows read from rollups only (days, hours, minutes, seconds) checked
// against a brute-force count over the window as the store rounds it, bucket widths and per-key
// usage. The timing run on ~200k rows is tests/bench/stats_append_bench.cpp.
#include <algorithm>
#include <doctest/doctest.h>
#include <map>

#include "test_support.h"
#include "tests/support/log_rows.h"

namespace gemgate::storage {
namespace {

using testing::open_test_store;

constexpr Millis kMinute = 60'000;
constexpr Millis kHour = 60 * kMinute;
constexpr Millis kDay = 24 * kHour;
constexpr Millis kNow = 1'700'000'123'456;  // deliberately not on a minute or hour edge

bool failed(int status) {
  return status >= 400 || status == 0;
}

void add_row(UsageTotals& u, const RequestLogRow& r) {
  u.requests += 1;
  u.failures += failed(r.status) ? 1 : 0;
  u.prompt_tokens += r.prompt_tokens;
  u.completion_tokens += r.completion_tokens;
  u.total_tokens += r.total_tokens;
}

void check_same(const UsageTotals& got, const UsageTotals& want) {
  CHECK(got.requests == want.requests);
  CHECK(got.failures == want.failures);
  CHECK(got.prompt_tokens == want.prompt_tokens);
  CHECK(got.completion_tokens == want.completion_tokens);
  CHECK(got.total_tokens == want.total_tokens);
}

std::vector<RequestLogRow> random_rows(int n, unsigned seed, Millis span, int keys) {
  return testing::random_log_rows(n, seed, kNow + kHour, span, keys);
}

// Inserts in uneven batches, so one hour's rollup row is built up by several upserts.
void insert_all(Store& store, const std::vector<RequestLogRow>& rows) {
  std::size_t i = 0, step = 1;
  while (i < rows.size()) {
    const std::size_t end = std::min(rows.size(), i + step);
    REQUIRE(store.append_request_logs({rows.begin() + i, rows.begin() + end}).ok());
    i = end;
    step = step * 3 % 997 + 1;
  }
}

// The start of a window as the store answers it from rollups: down to the hour for windows
// over two hours, else to the second (per key: the minute). See sqlite_stats.cpp.
Millis model_start(Millis from, Millis window) {
  const Millis step = window > 2 * kHour ? kHour : 1000;
  return from / step * step;
}
Millis key_start(Millis from, Millis window) {
  const Millis step = window > 2 * kHour ? kHour : kMinute;
  return from / step * step;
}

TEST_CASE("stats: bucket widths for the dashboard windows") {
  auto store = open_test_store(":memory:");
  auto bucket = [&](Millis window) {
    return store->usage_stats({kNow, window, 60}).value().bucket_ms;
  };
  CHECK(bucket(kMinute) == 1000);
  CHECK(bucket(kHour) == kMinute);
  CHECK(bucket(kDay) == kHour);
  CHECK(bucket(30 * kDay) == 12 * kHour);
  auto day = store->usage_stats({kNow, kDay, 60}).value();
  CHECK(day.series.size() == 25);  // 24 whole hours plus the one the window starts in
  CHECK(day.series.front().start_ms <= day.from_ms);
  CHECK(day.series.back().start_ms + day.bucket_ms >= day.to_ms);
  CHECK(store->usage_stats({kNow, 0, 60}).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("stats: failures are status >= 400 or 0; rows without a key are not in by_key") {
  auto store = open_test_store(":memory:");
  std::vector<RequestLogRow> rows;
  for (int status : {200, 302, 400, 429, 500, 0}) {
    RequestLogRow r;
    r.time_ms = kNow - 1000;
    r.status = status;
    r.model = "m";
    r.key_id = status == 0 ? std::nullopt : std::optional<std::int64_t>(5);
    r.total_tokens = 7;
    rows.push_back(r);
  }
  REQUIRE(store->append_request_logs(rows).ok());
  auto s = store->usage_stats({kNow, kMinute, 60}).value();
  CHECK(s.totals.requests == 6);
  CHECK(s.totals.failures == 4);
  CHECK(s.totals.total_tokens == 42);
  REQUIRE(s.by_key.size() == 1);
  CHECK(s.by_key[0].key_id == 5);
  CHECK(s.by_key[0].usage.requests == 5);
  REQUIRE(s.by_model.size() == 1);
  CHECK(s.by_model[0].usage.requests == 6);
}

TEST_CASE("stats: requests without a model count in the totals, not as a model") {
  auto store = open_test_store(":memory:");
  std::vector<RequestLogRow> rows;
  for (const char* model : {"", "", "gemini-2.5-flash"}) {
    RequestLogRow r;
    r.time_ms = kNow - 1000;
    r.status = 200;
    r.model = model;
    rows.push_back(r);
  }
  REQUIRE(store->append_request_logs(rows).ok());
  auto s = store->usage_stats({kNow, kMinute, 60}).value();
  CHECK(s.totals.requests == 3);
  REQUIRE(s.by_model.size() == 1);
  CHECK(s.by_model[0].model == "gemini-2.5-flash");
  CHECK(s.by_model[0].usage.requests == 1);
}

TEST_CASE("stats: every window matches a brute-force count exactly") {
  const auto all_rows = random_rows(6000, 42, 40 * kDay, 20);
  for (Millis now : {kNow, kNow - 5 * kHour - 17 * kMinute + 123, kNow + 2 * kHour}) {
    // The end of a window is "now": nothing is logged after it (see types.h UsageStats).
    std::vector<RequestLogRow> rows;
    for (const RequestLogRow& r : all_rows)
      if (r.time_ms < now) rows.push_back(r);
    auto store = open_test_store(":memory:");
    insert_all(*store, rows);
    for (Millis window :
         {kMinute, 30 * kMinute, kHour, 2 * kHour, 3 * kHour + 1, kDay, 7 * kDay, 30 * kDay}) {
      INFO("now=" << now << " window=" << window);
      auto got = store->usage_stats({now, window, 60});
      REQUIRE(got.ok());
      const Millis from = model_start(now - window, window);
      const Millis kfrom = key_start(now - window, window);
      UsageTotals total;
      std::map<std::int64_t, UsageTotals> keys;
      std::map<std::string, UsageTotals> models;
      std::map<Millis, UsageTotals> buckets;
      for (const RequestLogRow& r : rows) {
        if (r.key_id && r.time_ms >= kfrom && r.time_ms < now) add_row(keys[*r.key_id], r);
        if (r.time_ms < from || r.time_ms >= now) continue;
        add_row(total, r);
        if (!r.model.empty()) add_row(models[r.model], r);  // unnamed: totals only
        add_row(buckets[r.time_ms / got->bucket_ms * got->bucket_ms], r);
      }
      check_same(got->totals, total);
      CHECK(got->by_key.size() == keys.size());
      for (const KeyUsage& k : got->by_key) check_same(k.usage, keys[k.key_id]);
      CHECK(got->by_model.size() == models.size());
      for (const ModelUsage& m : got->by_model) check_same(m.usage, models[m.model]);
      for (std::size_t i = 1; i < got->by_key.size(); ++i) {
        CHECK(got->by_key[i - 1].usage.requests >= got->by_key[i].usage.requests);
      }
      for (std::size_t i = 0; i < got->series.size(); ++i) {
        const UsageBucket& b = got->series[i];
        CHECK(b.start_ms % got->bucket_ms == 0);
        if (i > 0) CHECK(b.start_ms == got->series[i - 1].start_ms + got->bucket_ms);
        check_same(b.usage, buckets[b.start_ms]);
      }
      CHECK(got->series.size() <= 61);
    }
  }
}

TEST_CASE("stats: key_usage for a page of keys, in the order asked") {
  auto store = open_test_store(":memory:");
  // `to` is "now" in use: nothing was logged after it.
  const Millis from = kNow - kDay + 12'345, to = kNow - 3 * kMinute;
  std::vector<RequestLogRow> rows;
  for (const RequestLogRow& r : random_rows(3000, 7, 3 * kDay, 10))
    if (r.time_ms < to) rows.push_back(r);
  insert_all(*store, rows);
  const std::vector<std::int64_t> ids = {7, 3, 99, 1};
  auto got = store->key_usage(ids, from, to);
  REQUIRE(got.ok());
  REQUIRE(got->size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CHECK((*got)[i].key_id == ids[i]);
    UsageTotals want;
    for (const RequestLogRow& r : rows) {
      if (r.key_id == ids[i] && r.time_ms >= key_start(from, kDay) && r.time_ms < to)
        add_row(want, r);
    }
    check_same((*got)[i].usage, want);
  }
  CHECK((*got)[2].usage.requests == 0);
  CHECK(store->key_usage({}, from, to).value().empty());
}

TEST_CASE("stats: whole hours outlive deleted logs until the usage itself is pruned") {
  auto store = open_test_store(":memory:");
  RequestLogRow r;
  r.time_ms = kNow - 10 * kHour;  // inside a whole hour of a 24-hour window
  r.status = 200;
  r.key_id = 1;
  r.total_tokens = 100;
  REQUIRE(store->append_request_logs({r, r}).ok());
  REQUIRE(store->delete_request_logs({}).ok());
  CHECK(store->usage_stats({kNow, kDay, 60}).value().totals.requests == 2);
  // Pruning works in whole UTC days: a cutoff inside that row's day keeps it.
  CHECK(store->prune_usage(kNow - 10 * kHour + 1).value() == 0);
  CHECK(store->prune_usage(kNow + kDay).value() == 3);  // its model hour, key hour and key day
  auto after = store->usage_stats({kNow, 30 * kDay, 60}).value();
  CHECK(after.totals.requests == 0);
  CHECK(after.by_key.empty());
}

}  // namespace
}  // namespace gemgate::storage
