// The PostgreSQL schema, as an ordered list of migration steps (see pg_schema.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace gemgate::storage::pg {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Every step, in order. The list starts at version 6 (SQLite's v1..v6 in one step: no
// PostgreSQL database predates it); later steps get the same numbers as their SQLite twins.
const std::vector<Migration>& migrations();
int latest_schema_version();

// The pg_advisory_xact_lock key migrations take, so instances starting together migrate once.
inline constexpr std::int64_t kMigrationLockKey = 0x67656d6761746531LL;  // "gemgate1"

}  // namespace gemgate::storage::pg
