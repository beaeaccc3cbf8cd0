// Test support: driving a Worker's loop from a test without starting its thread. The worker is
// constructed, never started; the test turns its loop with UV_RUN_NOWAIT, which never blocks, so
// next_tick() work, post()ed closures and zero-delay timers run deterministically.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <thread>

#include "core/worker.h"

namespace gemgate::testing {

// Turns `worker`'s loop `turns` times without blocking (enough for chains of next_tick and post).
inline void pump(Worker& worker, int turns = 20) {
  for (int i = 0; i < turns; ++i) uv_run(worker.loop(), UV_RUN_NOWAIT);
}

// Turns the loop until `done()` holds or `timeout_ms` of wall time passed; returns done().
// Sleeps a little between idle turns so timers with a real delay get their time.
inline bool run_until(Worker& worker, const std::function<bool()>& done, int timeout_ms = 2000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    uv_run(worker.loop(), UV_RUN_NOWAIT);
    if (!done()) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return done();
}

}  // namespace gemgate::testing
