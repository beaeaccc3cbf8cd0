// Probing a pool key: one minimal generateContent call ("hi", one output token) made with the
// key through the worker's Transport, classified like any answer. Used by the health check to
// decide whether a disabled or cooling key may serve again. Part of the key pool's public
// interface; callers need no transport of their own.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/worker.h"
#include "pool/classify.h"
#include "pool/key_pool.h"

namespace gemgate::pool {

struct ProbeOptions {
  std::string base_url;         // e.g. https://generativelanguage.googleapis.com
  std::string model;            // e.g. gemini-2.5-flash-lite
  int64_t timeout_ms = 30'000;  // whole call
  std::string proxy;            // upstream proxy, "" for direct; a key's own proxy wins
};

// Probes `key` on `worker`'s loop using the worker's Transport service; calls `done` there
// exactly once with the outcome (a transport failure is kTransient). Loop thread only.
void probe_key(Worker& worker, const PoolKey& key, const ProbeOptions& options,
               std::function<void(Outcome)> done);

// The active side of outage detection: when an upstream outage's trial is due (and no request
// has taken it), or a model is suspected of an outage (UpstreamHealth), probes the upstream once
// with any enabled key — `options.model`, or the model the outage is about — and closes the
// outage (drops the suspicion) when Google answers with anything but a failure of its own (5xx,
// timeout, unreachable); otherwise the next trial waits longer (a suspected model's outage
// opens). Penalises no key. Returns true when a probe was started. Meant to be called about once a
// second (the gateway's housekeeping tick); service then returns within seconds of the upstream.
// Loop thread of `worker` only.
bool probe_upstream_outage(Worker& worker, std::shared_ptr<KeyPool> pool, ProbeOptions options);

}  // namespace gemgate::pool
