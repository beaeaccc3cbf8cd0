// StorageThread: the one thread that runs SQL. It owns the Store, runs submitted jobs in FIFO
// order, and writes behind what workers produce at a high rate (request/error log rows, key
// health, token last-use) in batches, so no worker event loop ever waits on the disk.
//
// Thread rules: every public method may be called from any thread, except that stop() and the
// destructor must not be called from inside a job. Nothing here throws.
//
// Ordering: before each job runs, everything queued for write-behind so far is written, so a job
// always sees rows appended before it was submitted (an admin page listing logs sees the last
// request). Write-behind also flushes every `flush_interval` or once `batch_rows` rows wait.
// Exception: after a write failed with a retriable error (database down, locked, disk full) and
// until a retry succeeds, jobs run without writing the queue first, so an admin job meets the
// database's state itself (and answers its own 503) instead of waiting behind failing retries.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "storage/store.h"
#include "storage/thread_standing.h"

namespace gemgate::storage {

class StorageThread {
 public:
  struct Options {
    std::chrono::milliseconds flush_interval{250};
    std::size_t batch_rows = 2000;  // rows per log transaction; reaching it triggers a flush
    // Request + error rows allowed to wait. Beyond it new rows are dropped and counted (the
    // disk is failing or far too slow); workers never block on storage.
    std::size_t max_queued_rows = 100'000;
    // Delay before retrying after a write failed with a retriable error (busy, disk full).
    std::chrono::milliseconds retry_delay{1000};
    // How much CPU the thread asks for (thread_standing.h), from how far it is behind. While at
    // most two batches wait: SCHED_IDLE when it may take its priority back later (CAP_SYS_NICE,
    // or an RLIMIT_NICE permitting the process's nice value), so its writes never delay a
    // worker; without that privilege `nice` above the process's own, where a worker woken on
    // its CPU takes it back within ~1 ms. Each time `behind_batches` batches wait, one standing
    // up: SCHED_IDLE to `nice`, `nice` to the process's own (without the privilege a warning
    // says it cannot). Awaited jobs run at `nice` at least. `nice` 0: always at the process's
    // priority.
    int nice = 5;
    std::size_t behind_batches = 4;
  };

  struct Counters {
    std::uint64_t rows_written = 0;  // log rows committed
    std::uint64_t rows_dropped =
        0;  // log rows lost: queue full, failed for good, or appended after stop
    std::uint64_t write_errors = 0;  // failed write-behind transactions
    std::uint64_t jobs_run = 0;
    std::uint64_t refused_counted = 0;  // requests refused before auth, counted (not logged)
  };

  // Takes ownership of `store` (already opened and migrated) and starts the thread.
  explicit StorageThread(std::unique_ptr<Store> store);
  StorageThread(std::unique_ptr<Store> store, Options options);
  // Calls stop().
  ~StorageThread();
  StorageThread(const StorageThread&) = delete;
  StorageThread& operator=(const StorageThread&) = delete;

  // Who waits on a job: kAwaited (a request, an admin page, a reload) runs at Options::nice at
  // least, never under SCHED_IDLE, which a saturated machine could starve; kBackground
  // (periodic housekeeping and syncs nobody waits for) runs at the thread's standing, like the
  // write-behind, so it does not delay a worker either.
  enum class JobKind { kAwaited, kBackground };

  // Queues `job` to run on the storage thread after earlier jobs. The job delivers its own
  // result (e.g. by posting to the caller's loop). Exceptions from the job are caught and
  // logged. Returns false (job not queued, never run) once stop() has begun.
  bool submit(std::function<void(Store&)> job, JobKind kind = JobKind::kAwaited);

  // Write-behind sinks: queue and return at once. Log rows are written in order; key health is
  // coalesced per key (the latest call wins); token touches keep the latest time per token.
  void append_request_log(RequestLogRow row);
  // A row to fill and pass to append_request_log(): one already written, whose text keeps its
  // capacity, when one is spare, else a new one. Filled with assignments (every field: it holds
  // an old row's values), a warm queue then appends without a malloc, and the storage thread
  // frees nothing a worker allocated (a free into another thread's arena takes that arena's
  // lock). Thread-safe.
  RequestLogRow spare_request_row();
  void append_error_log(ErrorLogRow row);
  void update_key_health(KeyHealthRow health);
  void touch_token(std::int64_t token_id, Millis at_ms);
  // Counts one request refused before authentication at `at_ms`. Costs a map increment: a
  // flood of bad tokens adds one rollup row per minute, not a log row per request, and is
  // never dropped for lack of queue space.
  void count_refused(Millis at_ms);

  // Blocks until everything queued before the call has been written (or has failed). Returns an
  // error when a write failed meanwhile or the thread is stopped. From inside a job it writes
  // the queue inline instead of waiting (which would deadlock).
  Result<void> flush();

  // Stops accepting work, runs the queued jobs, writes every queued row, joins the thread and
  // closes the Store. Idempotent.
  void stop();

  Counters counters() const;
  // Log rows waiting to be written now (the write-behind queue's depth). Thread-safe.
  std::size_t queued_rows() const;
  // True on the storage thread itself (inside a job).
  bool on_storage_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  struct Pending {
    std::vector<RequestLogRow> requests;
    std::vector<ErrorLogRow> errors;
    std::unordered_map<std::int64_t, KeyHealthRow> health;
    std::unordered_map<std::int64_t, Millis> touches;
    std::unordered_map<Millis, std::int64_t> refused;  // minute → requests
    std::size_t log_rows() const { return requests.size() + errors.size(); }
    bool empty() const {
      return log_rows() == 0 && health.empty() && touches.empty() && refused.empty();
    }
  };

  // Queues one log row on `list`; drops (and counts) it when the queue is full or stopping.
  template <class Row>
  void append_row(std::vector<Row> Pending::*list, Row row);
  void run();
  Pending take_pending();  // requires mu_
  // Writes a batch; on a retriable failure puts what failed back in the queue unless `final`.
  // Returns false when anything failed.
  bool write(Pending batch, bool final);
  // Writes `rows` (leaving them in place when they were written, moved back into the queue when
  // a retriable failure keeps them).
  bool write_request_rows(std::vector<RequestLogRow>& rows, bool final);
  // Keeps the rows of a written batch, with the spare rows not taken yet (up to two batches),
  // as the spare rows of spare_request_row(), and an emptied vector as the next queue's storage
  // (requires !mu_), so appending rows on a worker neither allocates nor touches fresh pages
  // once warm.
  void recycle(std::vector<RequestLogRow> rows);
  bool write_error_rows(std::vector<ErrorLogRow> rows, bool final);
  bool write_state(Pending& batch, bool final);
  // Logs dropped rows, at most every 10 s unless `force`.
  void report_drops(bool force);
  // Storage thread only: sets its standing from the queue's depth before a batch (see
  // Options::nice).
  void pace(std::size_t queued);
  // Any thread: ThreadStanding::lift_from_idle() once the thread has its standing.
  void lift_from_idle();

  const Options options_;
  std::unique_ptr<Store> store_;  // touched only by the storage thread until joined

  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Job {
    std::function<void(Store&)> run;
    JobKind kind;
  };
  std::deque<Job> jobs_;
  Pending pending_;
  std::vector<RequestLogRow> spare_requests_;  // empty, with the capacity of a written batch
  std::vector<RequestLogRow> spare_rows_;      // written rows, handed out by spare_request_row()
  bool accepting_ = true;
  bool stopping_ = false;

  std::mutex join_mu_;
  std::thread thread_;
  std::thread::id thread_id_;

  std::atomic<std::uint64_t> rows_written_{0};
  std::atomic<std::uint64_t> rows_dropped_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::atomic<std::uint64_t> jobs_run_{0};
  std::atomic<std::uint64_t> refused_counted_{0};
  std::uint64_t drops_reported_ = 0;        // storage thread only
  std::optional<ThreadStanding> standing_;  // made in run(); applied by the storage thread only
  std::atomic<ThreadStanding*> standing_ready_{nullptr};  // standing_, once made

  bool nice_warned_ = false;  // storage thread only
  std::chrono::steady_clock::time_point last_drop_report_{};
};

}  // namespace gemgate::storage
