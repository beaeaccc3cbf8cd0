// Worker: one thread running one libuv loop. Connections, exchanges, timers and the upstream
// transport of a worker all live on its loop; other threads reach it only through post().
// Also offers the loop-thread conveniences every component needs: next_tick() to run code after
// the current callback stack unwinds, and Timer for one-shot/repeating deadlines.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <uv.h>
#include <vector>

#include "core/services.h"

namespace gemgate {

class Worker {
 public:
  // Creates the loop and its internal handles; `index` names the worker in logs.
  explicit Worker(int index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int index() const { return index_; }
  uv_loop_t* loop() { return &loop_; }
  // Per-worker services (e.g. this loop's Transport), filled before the loop starts.
  Services& services() { return services_; }

  // Runs `fn` on this worker's loop thread. Thread-safe; never runs fn inline.
  void post(std::function<void()> fn);
  // Loop thread only: runs `fn` on a later turn of the loop, after the current callbacks return.
  void next_tick(std::function<void()> fn);

  // Starts the loop on a new thread; `on_start` runs first on that thread. The loop runs until
  // stop() and every handle is closed.
  void start(std::function<void()> on_start);
  // Runs the loop on the calling thread until stop() (for the main thread and for tests).
  void run();
  // Asks the loop to close its internal handles and return once nothing else is open.
  // `on_stop` runs on the loop thread first (close listeners/transports there). Thread-safe.
  void stop(std::function<void()> on_stop = {});
  // Waits for the thread started by start() to finish.
  void join();

 private:
  // libuv trampolines; noexcept so no exception unwinds through libuv's C frames.
  static void on_async(uv_async_t* handle) noexcept;
  static void on_idle(uv_idle_t* handle) noexcept;
  void drain_posted();

  int index_;
  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_idle_t idle_{};
  Services services_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;  // guarded by mu_
  bool accepting_ = true;                      // guarded by mu_; false once stop() ran
  std::vector<std::function<void()>> ticks_;   // loop thread only
  bool idle_active_ = false;
  bool stopping_ = false;
};

// Timer: a one-shot or repeating uv timer owned by a C++ object. Destroying the Timer stops it;
// the uv handle is freed in its close callback, so a Timer may be destroyed from inside its own
// callback. Loop thread only.
class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re)starts the timer: `fn` runs after `delay_ms`, then every `repeat_ms` if non-zero.
  void start(uint64_t delay_ms, std::function<void()> fn, uint64_t repeat_ms = 0);
  // Stops it; `fn` will not run until the next start().
  void stop();
  bool active() const;

 private:
  struct Handle;
  Handle* handle_;
};

}  // namespace gemgate
