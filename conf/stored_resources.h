// The ResourceMap (core/resource_map.h) over the storage thread: entries are the resource_owners
// rows of storage/, written behind and read by jobs in the thread's FIFO queue.
#pragma once

#include <memory>

#include "core/resource_map.h"
#include "storage/storage_thread.h"

namespace gemgate::conf {

// Makes the resource map of a gateway: loaded with every live stored entry (waits for the
// storage thread once, at start-up, never on a worker loop), writing behind into `thread`.
// `shared`: other gateways write the same database, so a miss is read from the store.
std::shared_ptr<ResourceMap> make_stored_resource_map(storage::StorageThread& thread, bool shared);

// Deletes stored resource entries past their expiry, and the same from `map`'s memory.
void prune_expired_resources(storage::StorageThread& thread, ResourceMap& map, int64_t now);

}  // namespace gemgate::conf
