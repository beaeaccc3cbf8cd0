// PgStore: statistics of one client token (GET /admin/api/stats?token_id=N), read from that
// token's log rows through the index request_log (token_id, time_ms), exactly as SQLite does it
// (sqlite_token_stats.cpp explains why the rollups have no token dimension).
#include <algorithm>
#include <unordered_map>

#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"
#include "storage/postgres/pg_util.h"
#include "storage/usage_plan.h"

namespace gemgate::storage {

using pg::arg;
using pg::Tx;

namespace {

constexpr const char* kSums =
    "COUNT(*)::bigint, SUM(CASE WHEN status >= 400 OR status = 0 THEN 1 ELSE 0 END)::bigint, "
    "SUM(prompt_tokens)::bigint, SUM(completion_tokens)::bigint, SUM(total_tokens)::bigint";

UsageTotals sums_at(const pg::Rows& rows, int i, int first) {
  return {rows.i64(i, first), rows.i64(i, first + 1), rows.i64(i, first + 2),
          rows.i64(i, first + 3), rows.i64(i, first + 4)};
}

}  // namespace

Result<UsageStats> PgStore::usage_stats_for_token(const StatsQuery& q, std::int64_t token_id) {
  if (q.window_ms <= 0 || q.window_ms > usage::kMaxWindowMs) {
    return Error::invalid("statistics window must be between 1 ms and 400 days");
  }
  UsageStats out;
  out.to_ms = q.now_ms;
  out.from_ms = q.now_ms - q.window_ms;
  out.bucket_ms = usage::round_bucket(q.window_ms, q.max_buckets);
  const std::string where =
      " FROM request_log WHERE token_id = $1 AND time_ms >= $2 AND "
      "time_ms < $3";
  const pg::Params range = {arg(token_id), arg(out.from_ms), arg(out.to_ms + 1)};
  Tx tx(*db_);
  PG_TRY(tx.begin("REPEATABLE READ READ ONLY"));  // all views see the same rows

  PG_LET(keys, db_->exec(std::string("SELECT key_id, ") + kSums + where +
                             " AND key_id IS NOT NULL GROUP BY key_id ORDER BY 2 DESC, key_id",
                         range));
  for (int i = 0; i < keys.size(); ++i) out.by_key.push_back({keys.i64(i, 0), sums_at(keys, i, 1)});

  PG_LET(models,
         db_->exec(std::string("SELECT model, ") + kSums + where +
                       " AND model <> '' GROUP BY model ORDER BY 2 DESC, model COLLATE \"C\"",
                   range));
  for (int i = 0; i < models.size(); ++i) {
    out.by_model.push_back({models.text(i, 0), sums_at(models, i, 1)});
  }

  pg::Params series_args = range;
  series_args.push_back(arg(out.bucket_ms));
  PG_LET(series, db_->exec(std::string("SELECT (time_ms / $4::bigint) * $4::bigint AS b, ") +
                               kSums + where + " GROUP BY b",
                           series_args));
  std::unordered_map<Millis, UsageTotals> by_bucket;
  for (int i = 0; i < series.size(); ++i) by_bucket[series.i64(i, 0)] = sums_at(series, i, 1);
  const Millis first = (out.from_ms / out.bucket_ms) * out.bucket_ms;
  for (Millis b = first; b <= out.to_ms; b += out.bucket_ms) {
    auto it = by_bucket.find(b);
    UsageBucket point{b, it == by_bucket.end() ? UsageTotals{} : it->second};
    out.totals.requests += point.usage.requests;
    out.totals.failures += point.usage.failures;
    out.totals.prompt_tokens += point.usage.prompt_tokens;
    out.totals.completion_tokens += point.usage.completion_tokens;
    out.totals.total_tokens += point.usage.total_tokens;
    out.series.push_back(point);
  }
  out.refused = 0;  // refused before authentication: no token to count them for
  PG_TRY(tx.commit());
  return out;
}

}  // namespace gemgate::storage
