// The `metrics` filter (terminal): answers a Prometheus scrape with the text exposition of the
// gateway's metrics::Registry. Closed by default: with no `token` and without `open: true` it
// answers 404 as if the route did not exist; with a `token` it wants `Authorization: Bearer
// <token>` (compared in constant time) and answers 401 otherwise. `open: true` is for a
// listener that only trusted scrapers reach (a separate metrics listener).
//
// Config:
//   token: ${METRICS_TOKEN:-}   # the scraper's bearer token (a secret: registered to be masked)
//   open: false                 # serve without a token
#pragma once

#include "core/registry.h"

namespace gemgate::metrics_endpoint {

// Registers the `metrics` filter. Needs the metrics::Registry service.
Result<void> register_metrics_filter(Registry& registry);

}  // namespace gemgate::metrics_endpoint
