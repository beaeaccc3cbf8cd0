// The usage rollups on PostgreSQL: the log writer folds each batch into them (pg_stats.cpp).
#pragma once

#include <vector>

#include "core/result.h"
#include "storage/postgres/pg_conn.h"
#include "storage/types.h"

namespace gemgate::storage::pg {

// Folds `rows` into every rollup table, one upsert statement per table. Call inside the
// transaction that inserts the rows, so the rollups and the log never disagree.
Result<void> add_to_usage_rollups(Connection& db, const std::vector<RequestLogRow>& rows);

}  // namespace gemgate::storage::pg
