// SqliteStore: usage statistics for the admin dashboard, from rollup tables only.
//
// A window [from, to) is cut into parts that never overlap, each read from the coarsest rollup
// that covers it exactly:
//   - per-key figures: whole UTC days from usage_daily_key, whole hours from usage_hourly_key,
//     and the minutes left at the recent end from usage_minute_key;
//   - totals, per-model figures and the series: whole hours from usage_hourly_model and the
//     seconds left from usage_second_model.
// No query reads request_log: its size (millions of rows during a flood) does not matter. The
// window's start is rounded down to what the rollups can answer exactly: the hour for windows
// over two hours (their series buckets are whole hours anyway), else the second (per key: the
// minute). Its end is `now`, after which nothing is logged, so the current hour's and day's
// rollup rows are read whole. A 30-day window reads at most 31 × keys + 24 × keys + 721 × models
// rollup rows; the fine tables (kept three hours) serve the start of windows of two hours or
// less, whose model side is read from seconds alone to allow sub-hour series buckets.
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <map>
#include <span>
#include <unordered_map>

#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/usage_rollup.h"
#include "storage/usage_plan.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::ReadTx;
using usage::add;
using usage::kDayMs;
using usage::kHourMs;

namespace {

using usage::ceil_to;
using usage::floor_to;
using usage::kMaxWindowMs;
using usage::kMinuteMs;
using usage::kSecondMs;
using usage::Level;
using usage::Part;

// `WITH src (...) AS (part UNION ALL part ...)`. `key_cond` (" AND key_id IN (?,?)") narrows
// every part; bind with bind_source().
std::string source_sql(const std::vector<Part>& parts, const std::string& key_cond) {
  std::string sql =
      "WITH src (t, key_id, model, requests, failures, prompt, completion, total) AS (";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) sql += " UNION ALL ";
    const Level* l = parts[i].level;
    if (l == nullptr) {
      sql +=
          "SELECT time_ms, COALESCE(key_id, 0), model, 1, "
          "CASE WHEN status >= 400 OR status = 0 THEN 1 ELSE 0 END, "
          "prompt_tokens, completion_tokens, total_tokens FROM request_log "
          "WHERE time_ms >= ? AND time_ms < ?";
    } else {
      sql += std::string("SELECT ") + l->time_col + ", " + l->key_col + ", " + l->model_col +
             ", requests, failures, prompt_tokens, completion_tokens, total_tokens FROM " +
             l->table + " WHERE " + l->time_col + " >= ? AND " + l->time_col + " < ?";
    }
    sql += key_cond;
  }
  return sql + ") ";
}

int bind_source(SQLite::Statement& st, const std::vector<Part>& parts,
                const std::vector<std::int64_t>& keys) {
  int i = 1;
  for (const Part& p : parts) {
    st.bind(i++, p.from);
    st.bind(i++, p.to);
    for (std::int64_t k : keys) st.bind(i++, k);
  }
  return i;
}

constexpr const char* kSums =
    "SUM(requests), SUM(failures), SUM(prompt), SUM(completion), SUM(total)";

UsageTotals read_sums(SQLite::Statement& st, int first) {
  return {st.getColumn(first).getInt64(), st.getColumn(first + 1).getInt64(),
          st.getColumn(first + 2).getInt64(), st.getColumn(first + 3).getInt64(),
          st.getColumn(first + 4).getInt64()};
}

// Upserts one rollup table from pre-summed buckets.
template <class Map>
void upsert(sqlite::StatementCache& statements, const char* table, const char* time_col,
            const char* dim_col, const Map& sums) {
  if (sums.empty()) return;
  const std::string sql = std::string("INSERT INTO ") + table + " (" + time_col + ", " + dim_col +
                          ", requests, failures, prompt_tokens, completion_tokens, total_tokens) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (" +
                          time_col + ", " + dim_col +
                          ") DO UPDATE SET requests = requests + excluded.requests, "
                          "failures = failures + excluded.failures, "
                          "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                          "completion_tokens = completion_tokens + excluded.completion_tokens, "
                          "total_tokens = total_tokens + excluded.total_tokens";
  SQLite::Statement& st = statements.get(sql);
  for (const auto& [k, u] : sums) {
    st.bind(1, k.first);
    st.bind(2, k.second);
    st.bind(3, u.requests);
    st.bind(4, u.failures);
    st.bind(5, u.prompt_tokens);
    st.bind(6, u.completion_tokens);
    st.bind(7, u.total_tokens);
    st.exec();
    st.reset();
  }
}

}  // namespace

namespace sqlite {

void add_to_usage_rollups(StatementCache& statements, const std::vector<RequestLogRow>& rows) {
  std::map<std::pair<Millis, std::string>, UsageTotals> model_hours;
  std::map<std::pair<Millis, std::string>, UsageTotals> model_seconds;
  std::map<std::pair<Millis, std::int64_t>, UsageTotals> key_minutes, key_hours, key_days;
  for (const RequestLogRow& r : rows) {
    const UsageTotals u{1, is_failure(r.status) ? 1 : 0, r.prompt_tokens, r.completion_tokens,
                        r.total_tokens};
    add(model_hours[{floor_to(r.time_ms, kHourMs), r.model}], u);
    add(model_seconds[{floor_to(r.time_ms, kSecondMs), r.model}], u);
    if (r.key_id) {
      add(key_minutes[{floor_to(r.time_ms, kMinuteMs), *r.key_id}], u);
      add(key_hours[{floor_to(r.time_ms, kHourMs), *r.key_id}], u);
      add(key_days[{floor_to(r.time_ms, kDayMs), *r.key_id}], u);
    }
  }
  upsert(statements, "usage_hourly_model", "hour_ms", "model", model_hours);
  upsert(statements, "usage_second_model", "sec_ms", "model", model_seconds);
  upsert(statements, "usage_minute_key", "minute_ms", "key_id", key_minutes);
  upsert(statements, "usage_hourly_key", "hour_ms", "key_id", key_hours);
  upsert(statements, "usage_daily_key", "day_ms", "key_id", key_days);
}

}  // namespace sqlite

Result<UsageStats> SqliteStore::usage_stats(const StatsQuery& q) {
  if (q.window_ms <= 0 || q.window_ms > kMaxWindowMs) {
    return Error::invalid("statistics window must be between 1 ms and 400 days");
  }
  return guarded("usage_stats", [&]() -> Result<UsageStats> {
    UsageStats out;
    out.to_ms = q.now_ms;
    out.from_ms = q.now_ms - q.window_ms;
    const usage::WindowPlan window = usage::plan_window(q);
    out.bucket_ms = window.bucket_ms;
    const auto& model_parts = window.model_parts;
    const auto& key_parts = window.key_parts;
    const Millis mfrom = window.model_from;
    const std::string model_src = source_sql(model_parts, "");
    ReadTx snapshot(*db_);  // all three views see the same rows

    SQLite::Statement keys(*db_, source_sql(key_parts, "") + "SELECT key_id, " + kSums +
                                     " FROM src WHERE key_id <> 0 GROUP BY key_id "
                                     "ORDER BY 2 DESC, key_id");
    bind_source(keys, key_parts, {});
    while (keys.executeStep()) {
      out.by_key.push_back({keys.getColumn(0).getInt64(), read_sums(keys, 1)});
    }

    // Requests that never named a model (model lists, refused calls) count in the totals and the
    // series but are no model's: a "" row would read as a model called "—".
    SQLite::Statement models(*db_, model_src + "SELECT model, " + kSums +
                                       " FROM src WHERE model <> '' GROUP BY model "
                                       "ORDER BY 2 DESC, model");
    bind_source(models, model_parts, {});
    while (models.executeStep()) {
      out.by_model.push_back({models.getColumn(0).getString(), read_sums(models, 1)});
    }

    SQLite::Statement series(
        *db_, model_src + "SELECT (t / ?) * ? AS b, " + kSums + " FROM src GROUP BY b");
    const int next = bind_source(series, model_parts, {});
    series.bind(next, out.bucket_ms);
    series.bind(next + 1, out.bucket_ms);
    std::unordered_map<Millis, UsageTotals> by_bucket;
    while (series.executeStep()) by_bucket[series.getColumn(0).getInt64()] = read_sums(series, 1);

    // Dense, so a chart needs no gap filling; the first bucket may start before from_ms.
    for (Millis b = floor_to(mfrom, out.bucket_ms); b < out.to_ms; b += out.bucket_ms) {
      auto it = by_bucket.find(b);
      UsageBucket point{b, it == by_bucket.end() ? UsageTotals{} : it->second};
      add(out.totals, point.usage);
      out.series.push_back(point);
    }

    SQLite::Statement refused(*db_,
                              "SELECT COALESCE(SUM(requests), 0) FROM refused_minute "
                              "WHERE minute_ms >= ? AND minute_ms < ?");
    refused.bind(1, floor_to(out.from_ms, kMinuteMs));
    refused.bind(2, ceil_to(out.to_ms, kMinuteMs));
    if (refused.executeStep()) out.refused = refused.getColumn(0).getInt64();
    return out;
  });
}

Result<std::vector<KeyUsage>> SqliteStore::key_usage(const std::vector<std::int64_t>& key_ids,
                                                     Millis from_ms, Millis to_ms) {
  return guarded("key_usage", [&]() -> Result<std::vector<KeyUsage>> {
    std::unordered_map<std::int64_t, UsageTotals> found;
    if (from_ms < to_ms && !key_ids.empty()) {
      const auto parts = usage::plan_key_range(from_ms, to_ms);
      ReadTx snapshot(*db_);
      for (const auto& chunk : sqlite::chunk_ids(key_ids, 200)) {
        const std::string cond = " AND key_id IN (" + sqlite::placeholders(chunk.size()) + ")";
        SQLite::Statement st(*db_, source_sql(parts, cond) + "SELECT key_id, " + kSums +
                                       " FROM src GROUP BY key_id");
        bind_source(st, parts, chunk);
        while (st.executeStep()) found[st.getColumn(0).getInt64()] = read_sums(st, 1);
      }
    }
    std::vector<KeyUsage> out;
    out.reserve(key_ids.size());
    for (std::int64_t id : key_ids) {
      auto it = found.find(id);
      out.push_back({id, it == found.end() ? UsageTotals{} : it->second});
    }
    return out;
  });
}

Result<std::int64_t> SqliteStore::prune_usage(Millis before_ms) {
  // One cutoff for every table (the start of before_ms's UTC day), so per-key and per-model
  // figures of what remains still agree.
  const Millis cutoff = floor_to(before_ms, kDayMs);
  return guarded("prune_usage", [&]() -> Result<std::int64_t> {
    sqlite::WriteTx tx(*db_);
    std::int64_t n = 0;
    for (const char* sql : {"DELETE FROM usage_hourly_model WHERE hour_ms < ?",
                            "DELETE FROM usage_hourly_key WHERE hour_ms < ?",
                            "DELETE FROM usage_daily_key WHERE day_ms < ?",
                            "DELETE FROM refused_minute WHERE minute_ms < ?"}) {
      SQLite::Statement st(*db_, sql);
      st.bind(1, cutoff);
      n += st.exec();
    }
    tx.commit();
    return n;
  });
}

Result<std::int64_t> SqliteStore::prune_fine_usage(Millis before_ms) {
  return guarded("prune_fine_usage", [&]() -> Result<std::int64_t> {
    sqlite::WriteTx tx(*db_);
    std::int64_t n = 0;
    for (const char* sql : {"DELETE FROM usage_second_model WHERE sec_ms < ?",
                            "DELETE FROM usage_minute_key WHERE minute_ms < ?"}) {
      SQLite::Statement st(*db_, sql);
      st.bind(1, before_ms);
      n += st.exec();
    }
    tx.commit();
    return n;
  });
}

Result<void> SqliteStore::add_refused(const std::vector<RefusedCount>& counts) {
  if (counts.empty()) return {};
  return guarded("add_refused", [&]() -> Result<void> {
    sqlite::WriteTx tx(*db_);
    SQLite::Statement st(*db_,
                         "INSERT INTO refused_minute (minute_ms, requests) VALUES (?, ?) "
                         "ON CONFLICT (minute_ms) DO UPDATE SET requests = requests + "
                         "excluded.requests");
    for (const RefusedCount& c : counts) {
      st.bind(1, floor_to(c.minute_ms, kMinuteMs));
      st.bind(2, std::max<std::int64_t>(c.requests, 0));
      st.exec();
      st.reset();
    }
    tx.commit();
    return {};
  });
}

}  // namespace gemgate::storage
