// SqliteStore: statistics of one client token (GET /admin/api/stats?token_id=N). The usage
// rollups have no token dimension (adding one would multiply their rows by the tokens); one
// token's figures are read from its own log rows instead, through the index on
// request_log (token_id, time_ms): the cost grows with that token's requests in the window, not
// with the whole log. The log keeps log_retention_days and log_max_rows, so a window longer than
// that shows what is left.
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <unordered_map>

#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/usage_plan.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::ReadTx;

namespace {

constexpr const char* kSums =
    "COUNT(*), SUM(CASE WHEN status >= 400 OR status = 0 THEN 1 ELSE 0 END), "
    "SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens)";

UsageTotals sums_at(SQLite::Statement& st, int first) {
  return {st.getColumn(first).getInt64(), st.getColumn(first + 1).getInt64(),
          st.getColumn(first + 2).getInt64(), st.getColumn(first + 3).getInt64(),
          st.getColumn(first + 4).getInt64()};
}

}  // namespace

Result<UsageStats> SqliteStore::usage_stats_for_token(const StatsQuery& q, std::int64_t token_id) {
  if (q.window_ms <= 0 || q.window_ms > usage::kMaxWindowMs) {
    return Error::invalid("statistics window must be between 1 ms and 400 days");
  }
  return guarded("usage_stats_for_token", [&]() -> Result<UsageStats> {
    UsageStats out;
    out.to_ms = q.now_ms;
    out.from_ms = q.now_ms - q.window_ms;
    out.bucket_ms = usage::round_bucket(q.window_ms, q.max_buckets);
    const std::string where =
        " FROM request_log WHERE token_id = ? AND time_ms >= ? AND time_ms < ?";
    auto bind_range = [&](SQLite::Statement& st) {
      st.bind(1, token_id);
      st.bind(2, out.from_ms);
      st.bind(3, out.to_ms + 1);
    };
    ReadTx snapshot(*db_);  // all views see the same rows

    SQLite::Statement keys(*db_, std::string("SELECT key_id, ") + kSums + where +
                                     " AND key_id IS NOT NULL GROUP BY key_id "
                                     "ORDER BY 2 DESC, key_id");
    bind_range(keys);
    while (keys.executeStep())
      out.by_key.push_back({keys.getColumn(0).getInt64(), sums_at(keys, 1)});

    SQLite::Statement models(*db_, std::string("SELECT model, ") + kSums + where +
                                       " AND model <> '' GROUP BY model ORDER BY 2 DESC, model");
    bind_range(models);
    while (models.executeStep()) {
      out.by_model.push_back({models.getColumn(0).getString(), sums_at(models, 1)});
    }

    SQLite::Statement series(*db_, std::string("SELECT (time_ms / ?) * ? AS b, ") + kSums +
                                       " FROM request_log WHERE token_id = ? AND time_ms >= ? "
                                       "AND time_ms < ? GROUP BY b");
    series.bind(1, out.bucket_ms);
    series.bind(2, out.bucket_ms);
    series.bind(3, token_id);
    series.bind(4, out.from_ms);
    series.bind(5, out.to_ms + 1);
    std::unordered_map<Millis, UsageTotals> by_bucket;
    while (series.executeStep()) by_bucket[series.getColumn(0).getInt64()] = sums_at(series, 1);
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
    return out;
  });
}

}  // namespace gemgate::storage
