// Housekeeping tasks, each started from the gateway's main-loop tick (conf/gateway.cpp decides
// when) and run where it belongs: probes on a worker loop, SQL on the storage thread. None blocks
// the calling loop; each logs what it did or why it failed and returns at once.
#pragma once

#include <cstdint>
#include <memory>

#include "admin/health_check.h"
#include "core/worker.h"
#include "pool/key_pool.h"
#include "storage/storage_thread.h"

namespace gemgate::conf {

// Runs the key health check on worker `w` (posted to its loop), logging what it brought back.
void run_scheduled_health_check(Worker& w, std::shared_ptr<pool::KeyPool> pool,
                                admin::HealthCheckOptions options);

// An upstream outage comes back on its own: probes it from worker `w`, no cron or operator
// needed. The pool decides whether a probe is due, so calling this every tick is cheap.
void probe_outage(Worker& w, std::shared_ptr<pool::KeyPool> pool,
                  const admin::HealthCheckOptions& options);

// Keeps at most `max_rows` request-log rows, deleting the oldest in bounded chunks.
void cap_request_log(storage::StorageThread& storage, int64_t max_rows);

// Deletes log rows older than `days` (0 = keep), old usage rollups and expired sessions.
void prune_old_rows(storage::StorageThread& storage, int64_t days, int64_t now);

// Deletes stored responses (the Responses front's conversations) past their expiry.
void prune_expired_responses(storage::StorageThread& storage, int64_t now);

}  // namespace gemgate::conf
