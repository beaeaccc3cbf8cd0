// The `cron_health_check` filter (terminal): GET /api/cron/health-check for external schedulers.
// Requires `Authorization: Bearer <CRON_SECRET>` (compared in constant time; 401 when the secret
// is unset or wrong), then runs the key health check and answers
// {"checked","reactivated","still_failing":[{"id","reason"}]}.
//
// Config:
//   secret: ${CRON_SECRET:-}     # empty = the endpoint refuses everyone
//   base_url: <Google API host>
#pragma once

#include "core/registry.h"

namespace gemgate::admin {

// Registers `cron_health_check` and declares the health_check_* settings. Needs the KeyPool
// service.
Result<void> register_cron_filter(Registry& registry);

}  // namespace gemgate::admin
