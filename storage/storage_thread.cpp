// StorageThread: job queue, write-behind batching and clean shutdown (see storage_thread.h).
#include "storage/storage_thread.h"

#include <algorithm>
#include <exception>
#include <future>
#include <iterator>
#include <pthread.h>
#include <string>

#include "core/log.h"

namespace gemgate::storage {

using Clock = std::chrono::steady_clock;

StorageThread::StorageThread(std::unique_ptr<Store> store)
    : StorageThread(std::move(store), Options{}) {}

StorageThread::StorageThread(std::unique_ptr<Store> store, Options options)
    : options_(options), store_(std::move(store)) {
  thread_ = std::thread([this] { run(); });
  // Written before any submit() can happen (the constructor has not returned yet), and read by
  // the storage thread only while it runs a job, which follows a submit() under mu_.
  thread_id_ = thread_.get_id();
}

StorageThread::~StorageThread() {
  stop();
}

bool StorageThread::submit(std::function<void(Store&)> job, JobKind kind) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!accepting_) return false;
    jobs_.push_back({std::move(job), kind});
  }
  // Someone waits on it: a thread the kernel may starve under SCHED_IDLE gets nice +5 first.
  if (kind == JobKind::kAwaited) lift_from_idle();
  cv_.notify_one();
  return true;
}

template <class Row>
void StorageThread::append_row(std::vector<Row> Pending::*list, Row row) {
  bool wake = false;
  bool behind = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!accepting_ || pending_.log_rows() >= options_.max_queued_rows) {
      rows_dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    (pending_.*list).push_back(std::move(row));
    wake = pending_.log_rows() == options_.batch_rows;
    behind = pending_.log_rows() == options_.behind_batches * options_.batch_rows;
  }
  // The thread is not getting the CPU it needs (it may be stuck mid-batch, holding the
  // database's write lock): lifted here, by the worker that saw it, rather than at its next
  // batch, which a starved thread would reach late.
  if (behind) lift_from_idle();
  if (wake) cv_.notify_one();
}

void StorageThread::append_request_log(RequestLogRow row) {
  append_row(&Pending::requests, std::move(row));
}

void StorageThread::append_error_log(ErrorLogRow row) {
  append_row(&Pending::errors, std::move(row));
}

void StorageThread::update_key_health(KeyHealthRow health) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!accepting_) return;
  const std::int64_t id = health.key_id;
  pending_.health.insert_or_assign(id, std::move(health));
}

void StorageThread::touch_token(std::int64_t token_id, Millis at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!accepting_) return;
  Millis& at = pending_.touches[token_id];
  at = std::max(at, at_ms);
}

void StorageThread::count_refused(Millis at_ms) {
  refused_counted_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  if (!accepting_) return;
  const Millis minute = at_ms - ((at_ms % 60'000) + 60'000) % 60'000;
  ++pending_.refused[minute];
}

Result<void> StorageThread::flush() {
  const std::uint64_t errors_before = write_errors_.load();
  if (on_storage_thread()) {
    Pending batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch = take_pending();
    }
    if (write(std::move(batch), false)) return {};
    return Error::unavailable("storage: some queued rows could not be written (see the log)");
  }
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  // The job writes the queue itself: the pre-job write is skipped while retries back off, and
  // a flush must try now (the database may be back).
  const bool queued = submit([this, done](Store&) {
    Pending batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch = take_pending();
    }
    write(std::move(batch), false);
    done->set_value();
  });
  if (!queued) {
    return Error::unavailable("storage thread is stopped");
  }
  try {
    finished.get();
  } catch (const std::exception&) {
    return Error::internal("storage thread ended before the flush completed");
  }
  if (write_errors_.load() != errors_before) {
    return Error::unavailable("storage: some queued rows could not be written (see the log)");
  }
  return {};
}

void StorageThread::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepting_ = false;
    stopping_ = true;
  }
  cv_.notify_all();
  if (on_storage_thread()) {
    log::error("storage: stop() called from a storage job; the thread stops after this job");
    return;
  }
  std::lock_guard<std::mutex> join_lock(join_mu_);
  if (thread_.joinable()) {
    thread_.join();
    store_.reset();  // close the database: the file is free once stop() returns
  }
}

StorageThread::Counters StorageThread::counters() const {
  return {rows_written_.load(), rows_dropped_.load(), write_errors_.load(), jobs_run_.load(),
          refused_counted_.load()};
}

std::size_t StorageThread::queued_rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.log_rows();
}

StorageThread::Pending StorageThread::take_pending() {
  Pending out;
  std::swap(out, pending_);
  pending_.requests.swap(spare_requests_);  // the queue goes on in a written batch's vector
  return out;
}

RequestLogRow StorageThread::spare_request_row() {
  std::lock_guard<std::mutex> lock(mu_);
  if (spare_rows_.empty()) return {};
  RequestLogRow row = std::move(spare_rows_.back());
  spare_rows_.pop_back();  // a moved-from row: nothing to free
  return row;
}

void StorageThread::recycle(std::vector<RequestLogRow> rows) {
  // A backlog's vector (a retry after an outage) is let go: kept, it would hold its memory.
  if (rows.capacity() > 2 * options_.batch_rows) return;
  std::vector<RequestLogRow> left;  // spare rows the workers have not taken yet
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(spare_rows_);
  }
  // Both stay spare (moved, nothing freed), up to two batches' worth: the rows appended while a
  // batch was written came from these, so keeping only one set would free every other batch.
  if (rows.size() + left.size() <= 2 * options_.batch_rows) {
    rows.insert(rows.end(), std::make_move_iterator(left.begin()),
                std::make_move_iterator(left.end()));
  }
  left.clear();  // moved-from rows, or (over the cap) the older spares, freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  spare_rows_.swap(rows);  // workers only take from spare_rows_: it is empty here
  // The emptied vector serves as the next queue's storage.
  if (left.capacity() > spare_requests_.capacity()) spare_requests_.swap(left);
}

void StorageThread::lift_from_idle() {
  if (ThreadStanding* s = standing_ready_.load(std::memory_order_acquire)) s->lift_from_idle();
}

void StorageThread::pace(std::size_t queued) {
  const Standing was = standing_->current();
  const Standing wanted = next_standing(was, queued, options_.batch_rows, options_.behind_batches,
                                        standing_->may_idle());
  // Standing is ordered lowest first: only a refused rise is worth a warning.
  if (standing_->apply(wanted) || wanted < was || nice_warned_) return;
  nice_warned_ = true;
  log::warn("storage: " + std::to_string(queued) + " log rows wait and the storage thread (nice " +
            std::to_string(standing_->nice_value()) +
            ") may not raise its priority (no CAP_SYS_NICE or RLIMIT_NICE); it keeps writing at "
            "its share of the CPU, and rows beyond the queue's limit are dropped and counted");
}

void StorageThread::run() {
  // Named so top, perf and tests/bench/compare.sh can tell its CPU from the workers'.
  pthread_setname_np(pthread_self(), "gg-storage");
  standing_.emplace(options_.nice);
  standing_ready_.store(&*standing_, std::memory_order_release);
  pace(0);
  std::unique_lock<std::mutex> lock(mu_);
  Clock::time_point next_flush = Clock::now() + options_.flush_interval;
  bool backing_off = false;  // after a failed write, wait for the timer rather than batch size
  for (;;) {
    cv_.wait_until(lock, next_flush, [&] {
      return !jobs_.empty() || stopping_ ||
             (!backing_off && pending_.log_rows() >= options_.batch_rows);
    });
    if (!jobs_.empty()) {
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      const bool final = stopping_;
      // The job must see rows queued before it — unless writes are failing (the database is
      // down or locked): then the rows wait for the retry timer and the job runs at once, so an
      // admin write gets its own clear error instead of queueing behind every failed retry.
      // (The retry timer below gets its turn between jobs; flush() writes on its own.)
      const bool write_first = final || !backing_off;
      Pending batch;
      const std::size_t queued = pending_.log_rows();
      if (write_first) batch = take_pending();
      lock.unlock();
      if (write_first) pace(queued);  // a backlog written ahead of a job counts as a batch
      // Someone waits on an awaited job (and on the rows it must see): never under SCHED_IDLE
      // (submit() lifted the thread already unless it was changing its standing just then).
      // A few system calls around such a job, none per row.
      const bool awaited = job.kind == JobKind::kAwaited;
      if (awaited && standing_->current() == Standing::kIdle) standing_->apply(Standing::kLow);
      const bool wrote = !write_first || write(std::move(batch), final);
      try {
        job.run(*store_);
      } catch (const std::exception& e) {
        log::error(std::string("storage: a job threw: ") + e.what());
      } catch (...) {
        log::error("storage: a job threw a non-standard exception");
      }
      jobs_run_.fetch_add(1, std::memory_order_relaxed);
      if (awaited) pace(queued_rows());  // back to what the queue asks for
      lock.lock();
      if (write_first) {
        backing_off = !wrote;
        next_flush = Clock::now() + (wrote ? options_.flush_interval : options_.retry_delay);
      }
      continue;
    }
    if (stopping_) {
      Pending batch = take_pending();
      lock.unlock();
      // The stop waits on these rows (and a service manager's stop timeout runs).
      if (standing_->current() == Standing::kIdle) standing_->apply(Standing::kLow);
      write(std::move(batch), true);
      lock.lock();
      if (jobs_.empty() && pending_.empty()) break;
      continue;
    }
    const bool due =
        Clock::now() >= next_flush || (!backing_off && pending_.log_rows() >= options_.batch_rows);
    if (!due) continue;
    const std::size_t queued = pending_.log_rows();
    Pending batch = take_pending();
    lock.unlock();
    pace(queued);
    const bool ok = write(std::move(batch), false);
    report_drops(false);
    lock.lock();
    backing_off = !ok;
    next_flush = Clock::now() + (ok ? options_.flush_interval : options_.retry_delay);
  }
  lock.unlock();
  report_drops(true);
}

bool StorageThread::write(Pending batch, bool final) {
  if (batch.empty()) return true;
  bool ok = write_request_rows(batch.requests, final);
  recycle(std::move(batch.requests));
  ok = write_error_rows(std::move(batch.errors), final) && ok;
  ok = write_state(batch, final) && ok;
  return ok;
}

bool StorageThread::write_request_rows(std::vector<RequestLogRow>& rows, bool final) {
  for (std::size_t i = 0; i < rows.size(); i += options_.batch_rows) {
    const std::size_t end = std::min(rows.size(), i + options_.batch_rows);
    // The usual batch is one transaction's worth: written from where it lies, not copied.
    std::vector<RequestLogRow> chunk;
    const bool whole = i == 0 && end == rows.size();
    if (!whole) {
      chunk.assign(std::make_move_iterator(rows.begin() + i),
                   std::make_move_iterator(rows.begin() + end));
    }
    Result<void> r = store_->append_request_logs(whole ? rows : chunk);
    if (r.ok()) {
      rows_written_.fetch_add(end - i, std::memory_order_relaxed);
      continue;
    }
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t left = rows.size() - i;
    if (r.error().retriable && !final) {
      log::warn("storage: writing request log rows failed, will retry (" + std::to_string(left) +
                " rows waiting): " + r.error().message);
      // Put this chunk and the rest back in front of anything queued since, keeping order.
      if (whole) {
        chunk = std::move(rows);
      } else {
        std::move(rows.begin() + end, rows.end(), std::back_inserter(chunk));
      }
      std::lock_guard<std::mutex> lock(mu_);
      std::move(pending_.requests.begin(), pending_.requests.end(), std::back_inserter(chunk));
      pending_.requests = std::move(chunk);
    } else {
      log::error("storage: lost " + std::to_string(left) +
                 " request log rows: " + r.error().message);
      rows_dropped_.fetch_add(left, std::memory_order_relaxed);
    }
    return false;
  }
  return true;
}

bool StorageThread::write_error_rows(std::vector<ErrorLogRow> rows, bool final) {
  if (rows.empty()) return true;
  // Error rows are few; one transaction per flush, in chunks only to bound its size.
  for (std::size_t i = 0; i < rows.size(); i += options_.batch_rows) {
    const std::size_t end = std::min(rows.size(), i + options_.batch_rows);
    std::vector<ErrorLogRow> chunk(std::make_move_iterator(rows.begin() + i),
                                   std::make_move_iterator(rows.begin() + end));
    Result<void> r = store_->append_error_logs(chunk);
    if (r.ok()) {
      rows_written_.fetch_add(chunk.size(), std::memory_order_relaxed);
      continue;
    }
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t left = rows.size() - i;
    if (r.error().retriable && !final) {
      log::warn("storage: writing error log rows failed, will retry: " + r.error().message);
      std::move(rows.begin() + end, rows.end(), std::back_inserter(chunk));
      std::lock_guard<std::mutex> lock(mu_);
      std::move(pending_.errors.begin(), pending_.errors.end(), std::back_inserter(chunk));
      pending_.errors = std::move(chunk);
    } else {
      log::error("storage: lost " + std::to_string(left) + " error log rows: " + r.error().message);
      rows_dropped_.fetch_add(left, std::memory_order_relaxed);
    }
    return false;
  }
  return true;
}

bool StorageThread::write_state(Pending& batch, bool final) {
  bool ok = true;
  if (!batch.health.empty()) {
    std::vector<KeyHealthRow> health;
    health.reserve(batch.health.size());
    for (auto& [id, h] : batch.health) health.push_back(std::move(h));
    Result<void> r = store_->save_key_health(health);
    if (!r.ok()) {
      ok = false;
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      if (r.error().retriable && !final) {
        log::warn("storage: saving key health failed, will retry: " + r.error().message);
        std::lock_guard<std::mutex> lock(mu_);
        for (KeyHealthRow& h : health)
          pending_.health.try_emplace(h.key_id, std::move(h));  // newer wins
      } else {
        log::error("storage: key health of " + std::to_string(health.size()) +
                   " keys not saved: " + r.error().message);
      }
    }
  }
  if (!batch.refused.empty()) {
    std::vector<RefusedCount> counts;
    counts.reserve(batch.refused.size());
    for (const auto& [minute, n] : batch.refused) counts.push_back({minute, n});
    Result<void> r = store_->add_refused(counts);
    if (!r.ok()) {
      ok = false;
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      if (r.error().retriable && !final) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const RefusedCount& c : counts) pending_.refused[c.minute_ms] += c.requests;
      } else {
        log::error("storage: refused-request counts not saved: " + r.error().message);
      }
    }
  }
  if (!batch.touches.empty()) {
    std::vector<TokenTouch> touches;
    touches.reserve(batch.touches.size());
    for (const auto& [id, at] : batch.touches) touches.push_back({id, at});
    Result<void> r = store_->touch_tokens(touches);
    if (!r.ok()) {
      ok = false;
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      if (r.error().retriable && !final) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const TokenTouch& t : touches) {
          Millis& at = pending_.touches[t.id];
          at = std::max(at, t.at_ms);
        }
      } else {
        log::error("storage: token last-use times not saved: " + r.error().message);
      }
    }
  }
  return ok;
}

void StorageThread::report_drops(bool force) {
  const std::uint64_t dropped = rows_dropped_.load(std::memory_order_relaxed);
  if (dropped == drops_reported_) return;
  const auto now = Clock::now();
  if (now - last_drop_report_ < std::chrono::seconds(10) && !force) return;
  log::warn("storage: " + std::to_string(dropped - drops_reported_) +
            " log rows dropped since the last report (queue full, write failure or after stop)");
  drops_reported_ = dropped;
  last_drop_report_ = now;
}

}  // namespace gemgate::storage
