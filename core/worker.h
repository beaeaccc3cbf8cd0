// Worker: one thread running one libuv loop. Connections, exchanges, timers and the upstream
// transport of a worker all live on its loop; other threads reach it only through post().
// Also offers the loop-thread conveniences every component needs: next_tick() to run code after
// the current callback stack unwinds, at_batch_end() to gather work (e.g. writes) done by many
// callbacks of one loop turn, and Timer for one-shot/repeating deadlines.
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
  // Something that runs once at the end of the loop turn that queued it (at_batch_end). Its
  // owner must cancel_batch_end() before it is destroyed.
  class BatchEnd {
   public:
    virtual void on_batch_end() = 0;

   protected:
    ~BatchEnd() = default;

   private:
    friend class Worker;
    bool queued_ = false;
  };

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
  // Loop thread only: runs item.on_batch_end() once, after the loop handled the I/O events of
  // this turn (uv_check) or, for work queued outside the poll phase (timers, ticks), just before
  // the loop next waits (uv_prepare): so it never waits on a blocked poll. Queuing an item that
  // is already queued does nothing. Allocation-free once the queue has grown.
  void at_batch_end(BatchEnd& item);
  // Takes `item` out of the queue (nothing when not queued).
  void cancel_batch_end(BatchEnd& item);

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
  // Starts the check and prepare handles that run the queued at_batch_end items.
  void arm_batch_handles();
  void run_batch_end();
  void drain_posted();

  int index_;
  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_idle_t idle_{};
  Services services_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;       // guarded by mu_
  bool accepting_ = true;                           // guarded by mu_; false once stop() ran
  std::vector<std::function<void()>> ticks_;        // loop thread only
  std::vector<std::function<void()>> spare_ticks_;  // the last batch's memory, reused
  uv_check_t batch_check_{};
  uv_prepare_t batch_prepare_{};
  std::vector<BatchEnd*> batch_;        // queued at_batch_end items, in order
  std::vector<BatchEnd*> batch_spare_;  // the running batch (its memory is reused)
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
