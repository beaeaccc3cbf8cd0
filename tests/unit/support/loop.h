// Test support: driving a Worker's loop from a test without starting its thread. The worker is
// constructed, never started; the test turns its loop with UV_RUN_NOWAIT, which never blocks, so
// next_tick() work, post()ed closures and zero-delay timers run deterministically. And libuv's
// rule for every test (MAKE_VALGRIND_HAPPY in libuv's test/task.h): a test leaves nothing open
// on its loop; TestWorker fails the test that does.
#pragma once

#include <chrono>
#include <doctest/doctest.h>
#include <functional>
#include <string>
#include <thread>
#include <uv.h>

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

// Fails the running test when `worker`'s loop still has handles open other than the worker's own
// (its async, idle, check and prepare handles, which only ~Worker closes) or requests in flight,
// listing their types; then closes the leftovers so the loop can still end. Call it once everything
// the test made is gone. Drops the worker's services first, as ~Worker does, since their owners (a
// transport) close their handles on destruction. Not for a worker whose thread still runs.
inline void check_nothing_open(Worker& worker) {
  worker.services() = Services();
  pump(worker, 5);  // lets close callbacks and the last ticks run
  struct Walk {
    Worker* worker;
    std::string open;
  } walk{&worker, ""};
  uv_walk(
      worker.loop(),
      [](uv_handle_t* h, void* arg) {
        auto* w = static_cast<Walk*>(arg);
        bool own = h->data == w->worker && (h->type == UV_ASYNC || h->type == UV_IDLE ||
                                            h->type == UV_CHECK || h->type == UV_PREPARE);
        if (own || uv_is_closing(h)) return;
        w->open += std::string(w->open.empty() ? "" : ", ") + uv_handle_type_name(h->type);
        uv_close(h, nullptr);  // so that ~Worker's loop can end; its owner is gone anyway
      },
      &walk);
  unsigned requests = worker.loop()->active_reqs.count;
  if (!walk.open.empty()) FAIL_CHECK("handles left open on the worker loop: " << walk.open);
  if (requests != 0) FAIL_CHECK(requests << " request(s) still in flight on the worker loop");
  pump(worker, 2);  // completes the closes above before ~Worker walks the loop
}

// A Worker that checks, when it goes, that the test left nothing open on its loop (see
// check_nothing_open). Declare it before everything that uses its loop, so it goes last.
class TestWorker : public Worker {
 public:
  explicit TestWorker(int index = 0) : Worker(index) {}
  ~TestWorker() {
    join();  // a started worker: its thread must be done before the loop is walked
    check_nothing_open(*this);
  }
};

}  // namespace gemgate::testing
