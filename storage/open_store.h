// open_store(): the one entry point the composition root uses to get a Store from DATABASE_URL.
#pragma once

#include <memory>
#include <string_view>

#include "core/result.h"
#include "storage/master_key.h"
#include "storage/store.h"

namespace gemgate::storage {

// Parses `database_url` (see database_url.h), opens the database, checks it and migrates it to
// the latest schema. A PostgreSQL URL is refused with "PostgreSQL support is not built in yet".
// `master_key` says where the pool-key encryption key comes from (master_key.h); a wrong key is
// refused before anything in the database changes. Call at start-up, before any worker runs;
// then hand the Store to a StorageThread.
Result<std::unique_ptr<Store>> open_store(std::string_view database_url,
                                          const MasterKeyOptions& master_key = {});

}  // namespace gemgate::storage
