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

// The health check's settings: read by health_check_options() (model, concurrency) and by conf's
// scheduler (interval; 0 = only when the endpoint is called).
inline constexpr Setting<std::string> kHealthCheckModel{"health_check_model"};
inline constexpr Setting<int64_t> kHealthCheckIntervalS{"health_check_interval_s"};
inline constexpr Setting<int64_t> kHealthCheckConcurrency{"health_check_concurrency"};

// Registers `cron_health_check` and declares the settings above. Needs the KeyPool service.
Result<void> register_cron_filter(Registry& registry);

}  // namespace gemgate::admin
