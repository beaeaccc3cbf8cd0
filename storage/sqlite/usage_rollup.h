// The usage rollups (tables usage_hourly_model, usage_hourly_key, usage_daily_key), shared by
// the log writer and the statistics queries. See sqlite_stats.cpp for how a window is answered.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <vector>

#include "storage/sqlite/sql_util.h"
#include "storage/types.h"
#include "storage/usage_plan.h"

namespace gemgate::storage::sqlite {

using usage::is_failure;
using usage::kDayMs;
using usage::kHourMs;

// Folds `rows` into every rollup table (one upsert per table × bucket × key or model). Call
// inside the transaction that inserts the rows, so the rollups and the log never disagree.
// The upserts are prepared once in `statements` (the store's cache) and reused.
void add_to_usage_rollups(StatementCache& statements, const std::vector<RequestLogRow>& rows);

}  // namespace gemgate::storage::sqlite
