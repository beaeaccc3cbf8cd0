// SqliteStore: usage statistics for the admin dashboard.
//
// A window [from, to) is cut into parts that never overlap, each read from the coarsest source
// that covers it exactly:
//   - per-key figures: whole UTC days from usage_daily_key, the whole hours left at either end
//     from usage_hourly_key, and the ragged minutes at the very ends from request_log;
//   - totals, per-model figures and the series: whole hours from usage_hourly_model and the
//     ragged ends from request_log.
// So a 30-day window reads about 30 × keys + 46 × keys + 720 × models rollup rows plus at most
// two hours of log rows, whatever the log volume, and every figure is exact. Windows of two
// hours or less take the model side from raw rows alone, which allows sub-hour series buckets.
#include <algorithm>
#include <map>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include <SQLiteCpp/SQLiteCpp.h>

#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/usage_rollup.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::kDayMs;
using sqlite::kHourMs;
using sqlite::ReadTx;

namespace {

constexpr Millis kSecondMs = 1000;
constexpr Millis kRawOnlyWindowMs = 2 * kHourMs;
constexpr Millis kMaxWindowMs = 400 * kDayMs;

Millis floor_to(Millis t, Millis step) {
  Millis q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

Millis ceil_to(Millis t, Millis step) {
  const Millis f = floor_to(t, step);
  return f == t ? t : f + step;
}

// One rollup table as a source of (t, key_id, model, requests, failures, prompt, completion,
// total) rows.
struct Level {
  const char* table;
  const char* time_col;
  const char* key_col;    // "key_id", or "0" for the per-model table
  const char* model_col;  // "model", or "''" for the per-key tables
  Millis step;
};

constexpr Level kModelLevels[] = {
    {"usage_hourly_model", "hour_ms", "0", "model", kHourMs},
};
constexpr Level kKeyLevels[] = {
    {"usage_daily_key", "day_ms", "key_id", "''", kDayMs},
    {"usage_hourly_key", "hour_ms", "key_id", "''", kHourMs},
};

// A slice [from, to) of the window read from `level` (nullptr: from raw log rows).
struct Part {
  const Level* level;
  Millis from, to;
};

// Covers [from, to) with the coarsest levels first; what no level covers exactly is raw.
void cover(Millis from, Millis to, std::span<const Level> levels, std::vector<Part>& out) {
  if (from >= to) return;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const Millis a = ceil_to(from, levels[i].step);
    const Millis b = floor_to(to, levels[i].step);
    if (a < b) {
      out.push_back({&levels[i], a, b});
      cover(from, a, levels.subspan(i + 1), out);
      cover(b, to, levels.subspan(i + 1), out);
      return;
    }
  }
  out.push_back({nullptr, from, to});
}

std::vector<Part> plan(Millis from, Millis to, std::span<const Level> levels) {
  std::vector<Part> parts;
  cover(from, to, levels, parts);
  return parts;
}

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

void add(UsageTotals& into, const UsageTotals& u) {
  into.requests += u.requests;
  into.failures += u.failures;
  into.prompt_tokens += u.prompt_tokens;
  into.completion_tokens += u.completion_tokens;
  into.total_tokens += u.total_tokens;
}

// The smallest round bucket width giving at most max_buckets points; whole hours (so rollup
// hours never straddle two buckets) once the window is too long to read from raw rows.
Millis pick_bucket(Millis window, int max_buckets) {
  static constexpr Millis kNice[] = {
      kSecondMs,      2 * kSecondMs, 5 * kSecondMs, 10 * kSecondMs, 15 * kSecondMs, 30 * kSecondMs,
      60 * kSecondMs, 2 * 60'000,    5 * 60'000,    10 * 60'000,    15 * 60'000,    30 * 60'000,
      kHourMs,        2 * kHourMs,   3 * kHourMs,   6 * kHourMs,    12 * kHourMs,   kDayMs,
      2 * kDayMs,     7 * kDayMs,    14 * kDayMs,   30 * kDayMs};
  const Millis n = std::clamp(max_buckets, 1, 1000);
  const Millis want = (window + n - 1) / n;
  Millis bucket = ceil_to(want, 30 * kDayMs);
  for (Millis nice : kNice) {
    if (nice >= want) {
      bucket = nice;
      break;
    }
  }
  if (window > kRawOnlyWindowMs) bucket = std::max(bucket, kHourMs);
  return bucket;
}

// Upserts one rollup table from pre-summed buckets.
template <class Map>
void upsert(SQLite::Database& db, const char* table, const char* time_col, const char* dim_col,
            const Map& sums) {
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
  SQLite::Statement st(db, sql);
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

void add_to_usage_rollups(SQLite::Database& db, const std::vector<RequestLogRow>& rows) {
  std::map<std::pair<Millis, std::string>, UsageTotals> model_hours;
  std::map<std::pair<Millis, std::int64_t>, UsageTotals> key_hours, key_days;
  for (const RequestLogRow& r : rows) {
    const UsageTotals u{1, is_failure(r.status) ? 1 : 0, r.prompt_tokens, r.completion_tokens,
                        r.total_tokens};
    add(model_hours[{floor_to(r.time_ms, kHourMs), r.model}], u);
    if (r.key_id) {
      add(key_hours[{floor_to(r.time_ms, kHourMs), *r.key_id}], u);
      add(key_days[{floor_to(r.time_ms, kDayMs), *r.key_id}], u);
    }
  }
  upsert(db, "usage_hourly_model", "hour_ms", "model", model_hours);
  upsert(db, "usage_hourly_key", "hour_ms", "key_id", key_hours);
  upsert(db, "usage_daily_key", "day_ms", "key_id", key_days);
}

}  // namespace sqlite

namespace {

// The rollup parts of `parts` (raw ones are left to scan_raw()).
std::vector<Part> rollup_parts(const std::vector<Part>& parts) {
  std::vector<Part> out;
  for (const Part& p : parts) {
    if (p.level) out.push_back(p);
  }
  return out;
}

// Streams the raw log rows of every raw part of `parts` to `fn(time, key_id, model, usage)`.
// Walks request_log_by_time in order and aggregates in the caller: a GROUP BY over raw rows
// made SQLite sort every row of the window in memory (~44 bytes a row, up to the cache size per
// call), which grew the storage thread's heap with the log under a dashboard that polls stats.
template <class Fn>
void scan_raw(SQLite::Database& db, const std::vector<Part>& parts, Fn&& fn) {
  for (const Part& p : parts) {
    if (p.level) continue;
    SQLite::Statement st(db,
                         "SELECT time_ms, COALESCE(key_id, 0), model, status, prompt_tokens, "
                         "completion_tokens, total_tokens FROM request_log "
                         "WHERE time_ms >= ? AND time_ms < ?");
    st.bind(1, p.from);
    st.bind(2, p.to);
    while (st.executeStep()) {
      const UsageTotals u{1, sqlite::is_failure(st.getColumn(3).getInt()) ? 1 : 0,
                          st.getColumn(4).getInt64(), st.getColumn(5).getInt64(),
                          st.getColumn(6).getInt64()};
      fn(st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getText(), u);
    }
  }
}

}  // namespace

Result<UsageStats> SqliteStore::usage_stats(const StatsQuery& q) {
  if (q.window_ms <= 0 || q.window_ms > kMaxWindowMs) {
    return Error::invalid("statistics window must be between 1 ms and 400 days");
  }
  return guarded("usage_stats", [&]() -> Result<UsageStats> {
    UsageStats out;
    out.to_ms = q.now_ms;
    out.from_ms = q.now_ms - q.window_ms;
    out.bucket_ms = pick_bucket(q.window_ms, q.max_buckets);
    const auto model_parts = plan(
        out.from_ms, out.to_ms,
        out.bucket_ms >= kHourMs ? std::span<const Level>(kModelLevels) : std::span<const Level>());
    const auto key_parts = plan(out.from_ms, out.to_ms, kKeyLevels);
    const auto model_rollups = rollup_parts(model_parts);
    const auto key_rollups = rollup_parts(key_parts);
    ReadTx snapshot(*db_);  // all three views see the same rows

    // Rollup rows are few (hours × models, days × keys): SQL groups them; raw rows are summed
    // here as they stream by.
    std::unordered_map<std::int64_t, UsageTotals> by_key;
    if (!key_rollups.empty()) {
      SQLite::Statement keys(*db_, source_sql(key_rollups, "") + "SELECT key_id, " + kSums +
                                       " FROM src WHERE key_id <> 0 GROUP BY key_id");
      bind_source(keys, key_rollups, {});
      while (keys.executeStep()) add(by_key[keys.getColumn(0).getInt64()], read_sums(keys, 1));
    }
    scan_raw(*db_, key_parts, [&](Millis, std::int64_t key, const char*, const UsageTotals& u) {
      if (key != 0) add(by_key[key], u);
    });
    for (const auto& [key, u] : by_key) out.by_key.push_back({key, u});
    std::sort(out.by_key.begin(), out.by_key.end(), [](const KeyUsage& a, const KeyUsage& b) {
      if (a.usage.requests != b.usage.requests) return a.usage.requests > b.usage.requests;
      return a.key_id < b.key_id;
    });

    std::map<std::string, UsageTotals, std::less<>> by_model;
    std::unordered_map<Millis, UsageTotals> by_bucket;
    const Millis bucket = out.bucket_ms;
    if (!model_rollups.empty()) {
      const std::string model_src = source_sql(model_rollups, "");
      SQLite::Statement models(*db_,
                               model_src + "SELECT model, " + kSums + " FROM src GROUP BY model");
      bind_source(models, model_rollups, {});
      while (models.executeStep()) {
        add(by_model[models.getColumn(0).getString()], read_sums(models, 1));
      }
      SQLite::Statement series(
          *db_, model_src + "SELECT (t / ?) * ? AS b, " + kSums + " FROM src GROUP BY b");
      const int next = bind_source(series, model_rollups, {});
      series.bind(next, bucket);
      series.bind(next + 1, bucket);
      while (series.executeStep()) {
        add(by_bucket[series.getColumn(0).getInt64()], read_sums(series, 1));
      }
    }
    scan_raw(*db_, model_parts,
             [&](Millis t, std::int64_t, const char* model, const UsageTotals& u) {
               auto it = by_model.find(std::string_view(model));
               if (it == by_model.end()) it = by_model.emplace(model, UsageTotals{}).first;
               add(it->second, u);
               add(by_bucket[(t / bucket) * bucket], u);  // as SQL's (t / ?) * ?
             });
    for (const auto& [model, u] : by_model) out.by_model.push_back({model, u});
    std::stable_sort(out.by_model.begin(), out.by_model.end(),
                     [](const ModelUsage& a, const ModelUsage& b) {
                       return a.usage.requests > b.usage.requests;  // then by name (map order)
                     });

    // Dense, so a chart needs no gap filling; the first bucket may start before from_ms.
    for (Millis b = floor_to(out.from_ms, bucket); b < out.to_ms; b += bucket) {
      auto it = by_bucket.find(b);
      UsageBucket point{b, it == by_bucket.end() ? UsageTotals{} : it->second};
      add(out.totals, point.usage);
      out.series.push_back(point);
    }
    return out;
  });
}

Result<std::vector<KeyUsage>> SqliteStore::key_usage(const std::vector<std::int64_t>& key_ids,
                                                     Millis from_ms, Millis to_ms) {
  return guarded("key_usage", [&]() -> Result<std::vector<KeyUsage>> {
    std::unordered_map<std::int64_t, UsageTotals> found;
    if (from_ms < to_ms && !key_ids.empty()) {
      const auto parts = plan(from_ms, to_ms, kKeyLevels);
      const auto rollups = rollup_parts(parts);
      ReadTx snapshot(*db_);
      if (!rollups.empty()) {
        for (const auto& chunk : sqlite::chunk_ids(key_ids, 200)) {
          const std::string cond = " AND key_id IN (" + sqlite::placeholders(chunk.size()) + ")";
          SQLite::Statement st(*db_, source_sql(rollups, cond) + "SELECT key_id, " + kSums +
                                         " FROM src GROUP BY key_id");
          bind_source(st, rollups, chunk);
          while (st.executeStep()) add(found[st.getColumn(0).getInt64()], read_sums(st, 1));
        }
      }
      // The ragged ends from raw rows, summed as they stream by (no sort; see scan_raw).
      std::unordered_set<std::int64_t> wanted(key_ids.begin(), key_ids.end());
      scan_raw(*db_, parts, [&](Millis, std::int64_t key, const char*, const UsageTotals& u) {
        if (wanted.count(key)) add(found[key], u);
      });
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
                            "DELETE FROM usage_daily_key WHERE day_ms < ?"}) {
      SQLite::Statement st(*db_, sql);
      st.bind(1, cutoff);
      n += st.exec();
    }
    tx.commit();
    return n;
  });
}

}  // namespace gemgate::storage
