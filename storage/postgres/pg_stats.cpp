// PgStore: usage statistics from the rollup tables only, planned exactly as SQLite's
// (storage/usage_plan.h), so both stores give the same UsageStats for the same rows.
#include <map>
#include <unordered_map>

#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_rollups.h"
#include "storage/postgres/pg_store.h"
#include "storage/postgres/pg_util.h"
#include "storage/usage_plan.h"

namespace gemgate::storage {

using pg::arg;
using pg::Param;
using pg::Params;
using pg::Tx;
using usage::ceil_to;
using usage::floor_to;
using usage::kDayMs;
using usage::kHourMs;
using usage::kMinuteMs;
using usage::kSecondMs;
using usage::Part;

namespace {

// `WITH src (...) AS (part UNION ALL part ...)` with the parts' bounds as $1, $2, … and, when
// `keys` is set, every part narrowed to `key_id = ANY($n)`.
std::string source_sql(const std::vector<Part>& parts, bool keys, Params& args) {
  std::string sql =
      "WITH src (t, key_id, model, requests, failures, prompt, completion, total) AS (";
  auto ph = [&args](Param v) {
    args.push_back(std::move(v));
    return "$" + std::to_string(args.size());
  };
  std::string key_ph;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) sql += " UNION ALL ";
    const usage::Level* l = parts[i].level;
    const std::string from = ph(arg(parts[i].from));
    const std::string to = ph(arg(parts[i].to));
    if (l == nullptr) {
      sql +=
          "SELECT time_ms, COALESCE(key_id, 0), model, 1::bigint, "
          "CASE WHEN status >= 400 OR status = 0 THEN 1::bigint ELSE 0::bigint END, "
          "prompt_tokens, completion_tokens, total_tokens FROM request_log "
          "WHERE time_ms >= " +
          from + " AND time_ms < " + to;
    } else {
      sql +=
          std::string("SELECT ") + l->time_col + ", " + l->key_col + "::bigint, " + l->model_col +
          "::text, requests, failures, prompt_tokens, completion_tokens, "
          "total_tokens FROM " +
          l->table + " WHERE " + l->time_col + " >= " + from + " AND " + l->time_col + " < " + to;
    }
    if (keys) {
      if (key_ph.empty()) key_ph = ph(Param());  // filled in by the caller
      sql += " AND key_id = ANY(" + key_ph + "::bigint[])";
    }
  }
  return sql + ") ";
}

constexpr const char* kSums =
    "SUM(requests)::bigint, SUM(failures)::bigint, SUM(prompt)::bigint, SUM(completion)::bigint, "
    "SUM(total)::bigint";

UsageTotals read_sums(const pg::Rows& rows, int i, int first) {
  return {rows.i64(i, first), rows.i64(i, first + 1), rows.i64(i, first + 2),
          rows.i64(i, first + 3), rows.i64(i, first + 4)};
}

// Upserts one rollup table from pre-summed buckets, all in one statement.
template <class Map>
Result<void> upsert(pg::Connection& db, const char* table, const char* time_col,
                    const char* dim_col, const char* dim_type, const Map& sums) {
  if (sums.empty()) return {};
  std::vector<Params> cols(7);
  for (const auto& [k, u] : sums) {
    cols[0].push_back(arg(k.first));
    cols[1].push_back(arg(k.second));
    cols[2].push_back(arg(u.requests));
    cols[3].push_back(arg(u.failures));
    cols[4].push_back(arg(u.prompt_tokens));
    cols[5].push_back(arg(u.completion_tokens));
    cols[6].push_back(arg(u.total_tokens));
  }
  Params args;
  for (const Params& c : cols) args.push_back(pg::array_of(c));
  const std::string t(table);
  const std::string sql =
      "INSERT INTO " + t + " (" + time_col + ", " + dim_col +
      ", requests, failures, prompt_tokens, completion_tokens, total_tokens) SELECT * FROM "
      "unnest($1::bigint[], $2::" +
      dim_type +
      "[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) ON CONFLICT (" +
      time_col + ", " + dim_col + ") DO UPDATE SET requests = " + t +
      ".requests + excluded.requests, failures = " + t +
      ".failures + excluded.failures, prompt_tokens = " + t +
      ".prompt_tokens + excluded.prompt_tokens, completion_tokens = " + t +
      ".completion_tokens + excluded.completion_tokens, total_tokens = " + t +
      ".total_tokens + excluded.total_tokens";
  PG_TRY(db.exec(sql, args));
  return {};
}

}  // namespace

namespace pg {

Result<void> add_to_usage_rollups(Connection& db, const std::vector<RequestLogRow>& rows) {
  // Sorted maps: every instance of a group locks rollup rows in the same order (no deadlock).
  std::map<std::pair<Millis, std::string>, UsageTotals> model_hours, model_seconds;
  std::map<std::pair<Millis, std::int64_t>, UsageTotals> key_minutes, key_hours, key_days;
  for (const RequestLogRow& r : rows) {
    const UsageTotals u{1, usage::is_failure(r.status) ? 1 : 0, r.prompt_tokens,
                        r.completion_tokens, r.total_tokens};
    usage::add(model_hours[{floor_to(r.time_ms, kHourMs), r.model}], u);
    usage::add(model_seconds[{floor_to(r.time_ms, kSecondMs), r.model}], u);
    if (r.key_id) {
      usage::add(key_minutes[{floor_to(r.time_ms, kMinuteMs), *r.key_id}], u);
      usage::add(key_hours[{floor_to(r.time_ms, kHourMs), *r.key_id}], u);
      usage::add(key_days[{floor_to(r.time_ms, kDayMs), *r.key_id}], u);
    }
  }
  PG_TRY(upsert(db, "usage_hourly_model", "hour_ms", "model", "text", model_hours));
  PG_TRY(upsert(db, "usage_second_model", "sec_ms", "model", "text", model_seconds));
  PG_TRY(upsert(db, "usage_minute_key", "minute_ms", "key_id", "bigint", key_minutes));
  PG_TRY(upsert(db, "usage_hourly_key", "hour_ms", "key_id", "bigint", key_hours));
  PG_TRY(upsert(db, "usage_daily_key", "day_ms", "key_id", "bigint", key_days));
  return {};
}

}  // namespace pg

Result<UsageStats> PgStore::usage_stats(const StatsQuery& q) {
  if (q.window_ms <= 0 || q.window_ms > usage::kMaxWindowMs) {
    return Error::invalid("statistics window must be between 1 ms and 400 days");
  }
  UsageStats out;
  out.to_ms = q.now_ms;
  out.from_ms = q.now_ms - q.window_ms;
  const usage::WindowPlan window = usage::plan_window(q);
  out.bucket_ms = window.bucket_ms;
  Tx tx(*db_);
  PG_TRY(tx.begin("REPEATABLE READ READ ONLY"));  // all views see the same rows

  Params key_args;
  const std::string key_src = source_sql(window.key_parts, false, key_args);
  PG_LET(keys, db_->exec(key_src + "SELECT key_id, " + kSums +
                             " FROM src WHERE key_id <> 0 GROUP BY key_id ORDER BY 2 DESC, key_id",
                         key_args));
  for (int i = 0; i < keys.size(); ++i)
    out.by_key.push_back({keys.i64(i, 0), read_sums(keys, i, 1)});

  // Requests that never named a model count in the totals and the series but are no model's.
  Params model_args;
  const std::string model_src = source_sql(window.model_parts, false, model_args);
  PG_LET(models, db_->exec(model_src + "SELECT model, " + kSums +
                               " FROM src WHERE model <> '' GROUP BY model "
                               "ORDER BY 2 DESC, model COLLATE \"C\"",
                           model_args));
  for (int i = 0; i < models.size(); ++i) {
    out.by_model.push_back({models.text(i, 0), read_sums(models, i, 1)});
  }

  Params series_args = model_args;
  series_args.push_back(arg(out.bucket_ms));
  const std::string bucket = "$" + std::to_string(series_args.size());
  PG_LET(series, db_->exec(model_src + "SELECT (t / " + bucket + "::bigint) * " + bucket +
                               "::bigint AS b, " + kSums + " FROM src GROUP BY b",
                           series_args));
  std::unordered_map<Millis, UsageTotals> by_bucket;
  for (int i = 0; i < series.size(); ++i) by_bucket[series.i64(i, 0)] = read_sums(series, i, 1);
  // Dense, so a chart needs no gap filling; the first bucket may start before from_ms.
  for (Millis b = floor_to(window.model_from, out.bucket_ms); b < out.to_ms; b += out.bucket_ms) {
    auto it = by_bucket.find(b);
    UsageBucket point{b, it == by_bucket.end() ? UsageTotals{} : it->second};
    usage::add(out.totals, point.usage);
    out.series.push_back(point);
  }

  PG_LET(refused,
         db_->exec("SELECT COALESCE(SUM(requests), 0)::bigint FROM refused_minute "
                   "WHERE minute_ms >= $1 AND minute_ms < $2",
                   {arg(floor_to(out.from_ms, kMinuteMs)), arg(ceil_to(out.to_ms, kMinuteMs))}));
  out.refused = refused.i64(0, 0);
  PG_TRY(tx.commit());
  return out;
}

Result<std::vector<KeyUsage>> PgStore::key_usage(const std::vector<std::int64_t>& key_ids,
                                                 Millis from_ms, Millis to_ms) {
  std::unordered_map<std::int64_t, UsageTotals> found;
  if (from_ms < to_ms && !key_ids.empty()) {
    const auto parts = usage::plan_key_range(from_ms, to_ms);
    Params args;
    const std::string src = source_sql(parts, true, args);
    for (Param& a : args) {
      if (!a) a = pg::id_array(key_ids);  // the key list placeholder
    }
    PG_LET(rows, db_->exec(src + "SELECT key_id, " + kSums + " FROM src GROUP BY key_id", args));
    for (int i = 0; i < rows.size(); ++i) found[rows.i64(i, 0)] = read_sums(rows, i, 1);
  }
  std::vector<KeyUsage> out;
  out.reserve(key_ids.size());
  for (std::int64_t id : key_ids) {
    auto it = found.find(id);
    out.push_back({id, it == found.end() ? UsageTotals{} : it->second});
  }
  return out;
}

Result<std::int64_t> PgStore::prune_usage(Millis before_ms) {
  // One cutoff for every table (the start of before_ms's UTC day), as in SQLite.
  const Millis cutoff = floor_to(before_ms, kDayMs);
  Tx tx(*db_);
  PG_TRY(tx.begin());
  std::int64_t n = 0;
  for (const char* sql : {"DELETE FROM usage_hourly_model WHERE hour_ms < $1",
                          "DELETE FROM usage_hourly_key WHERE hour_ms < $1",
                          "DELETE FROM usage_daily_key WHERE day_ms < $1",
                          "DELETE FROM refused_minute WHERE minute_ms < $1"}) {
    PG_LET(del, db_->exec(sql, {arg(cutoff)}));
    n += del.affected();
  }
  PG_TRY(tx.commit());
  return n;
}

Result<std::int64_t> PgStore::prune_fine_usage(Millis before_ms) {
  Tx tx(*db_);
  PG_TRY(tx.begin());
  std::int64_t n = 0;
  for (const char* sql : {"DELETE FROM usage_second_model WHERE sec_ms < $1",
                          "DELETE FROM usage_minute_key WHERE minute_ms < $1"}) {
    PG_LET(del, db_->exec(sql, {arg(before_ms)}));
    n += del.affected();
  }
  PG_TRY(tx.commit());
  return n;
}

Result<void> PgStore::add_refused(const std::vector<RefusedCount>& counts) {
  if (counts.empty()) return {};
  // Summed per minute first: one upsert may not touch a row twice.
  std::map<Millis, std::int64_t> per_minute;
  for (const RefusedCount& c : counts) {
    per_minute[floor_to(c.minute_ms, kMinuteMs)] += std::max<std::int64_t>(c.requests, 0);
  }
  Params minutes, requests;
  for (const auto& [m, n] : per_minute) {
    minutes.push_back(arg(m));
    requests.push_back(arg(n));
  }
  PG_TRY(
      db_->exec("INSERT INTO refused_minute (minute_ms, requests) SELECT * FROM "
                "unnest($1::bigint[], $2::bigint[]) ON CONFLICT (minute_ms) DO UPDATE SET "
                "requests = refused_minute.requests + excluded.requests",
                {pg::array_of(minutes), pg::array_of(requests)}));
  return {};
}

}  // namespace gemgate::storage
