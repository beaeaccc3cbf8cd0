// open_store(): the one entry point the composition root uses to get a Store from DATABASE_URL.
#pragma once

#include <memory>
#include <string_view>

#include "core/result.h"
#include "storage/change_feed.h"
#include "storage/master_key.h"
#include "storage/store.h"

namespace gemgate::storage {

// Parses `database_url` (see database_url.h), opens the database, checks it and migrates it to
// the latest schema: SqliteStore for SQLite forms, PgStore for PostgreSQL ones.
// `master_key` says where the pool-key encryption key comes from (master_key.h); a wrong key is
// refused before anything in the database changes. Call at start-up, before any worker runs;
// then hand the Store to a StorageThread.
// Checks, without opening anything, that `database_url` parses and names a backend this build
// has: kInvalidArgument otherwise, with a message that never repeats the URL (it may hold a
// password). For --check-config and the start-up checks.
Result<void> check_database_url(std::string_view database_url);

Result<std::unique_ptr<Store>> open_store(std::string_view database_url,
                                          const MasterKeyOptions& master_key = {});

// The ChangeFeed of the database `database_url` names (change_feed.h), not yet started: for
// PostgreSQL a PgChangeFeed (LISTEN on its own connection); for a SQLite file a SqliteChangeFeed
// on the same file; for an in-memory database nullptr (no other process can share it). Errors
// as check_database_url(). Opens nothing until start().
Result<std::unique_ptr<ChangeFeed>> open_change_feed(std::string_view database_url);

}  // namespace gemgate::storage
