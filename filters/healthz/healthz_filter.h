// The `healthz` filter (terminal): answers liveness probes with 200 {"status":"ok"}. It checks
// nothing beyond "this worker's loop runs", which is what a liveness probe should check.
#pragma once

#include "core/registry.h"

namespace gemgate::healthz {

Result<void> register_healthz_filter(Registry& registry);

}  // namespace gemgate::healthz
