// The SQLite schema as an ordered list of migrations. The database records the last applied
// step in `PRAGMA user_version`; steps are append-only: never edit one that has shipped, add a
// new one instead (see storage/README.md).
#pragma once

#include <cstdint>
#include <vector>

namespace gemgate::storage::sqlite {

// Marks the file as a gemgate database (`PRAGMA application_id`), so we refuse to migrate some
// other program's SQLite file. ASCII "GMGT".
inline constexpr std::int32_t kApplicationId = 0x474D4754;

struct Migration {
  int version;       // 1, 2, 3, ... with no gaps
  const char* name;  // for the log line
  const char* sql;   // one or more statements; runs inside the step's transaction
};

// Every migration, oldest first.
const std::vector<Migration>& migrations();

// The version a fully migrated database has.
int latest_schema_version();

}  // namespace gemgate::storage::sqlite
