// Probing a pool key: one minimal generateContent call ("hi", one output token) made with the
// key through the worker's Transport, classified like any answer. Used by the health check to
// decide whether a disabled or cooling key may serve again. Part of the key pool's public
// interface; callers need no transport of their own.
#pragma once

#include <functional>
#include <string>

#include "core/worker.h"
#include "filters/keys/classify.h"
#include "filters/keys/key_pool.h"

namespace gemgate::keys {

struct ProbeOptions {
  std::string base_url;         // e.g. https://generativelanguage.googleapis.com
  std::string model;            // e.g. gemini-2.5-flash-lite
  int64_t timeout_ms = 30'000;  // whole call
  std::string proxy;            // upstream proxy, "" for direct
};

// Probes `key` on `worker`'s loop using the worker's Transport service; calls `done` there
// exactly once with the outcome (a transport failure is kTransient). Loop thread only.
void probe_key(Worker& worker, const PoolKey& key, const ProbeOptions& options,
               std::function<void(Outcome)> done);

}  // namespace gemgate::keys
