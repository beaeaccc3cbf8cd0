#include "core/worker.h"

#include <utility>

#include "core/log.h"

namespace gemgate {

Worker::Worker(int index) : index_(index) {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &async_, &Worker::on_async);
  async_.data = this;
  uv_idle_init(&loop_, &idle_);
  idle_.data = this;
  uv_check_init(&loop_, &batch_check_);
  batch_check_.data = this;
  uv_prepare_init(&loop_, &batch_prepare_);
  batch_prepare_.data = this;
}

Worker::~Worker() {
  join();
  // Owners of handles on this loop (e.g. the transport) close theirs first.
  services_ = Services();
  // Normally stop() and the owner closed every handle already. On an early exit (start-up
  // failed) close whatever is left so the loop can end, then deliver the close callbacks.
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) noexcept {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) != 0) log::warn("worker loop closed with handles still open");
}

void Worker::post(std::function<void()> fn) {
  // Under the lock, so stop() cannot close the async handle between the check and the send.
  std::lock_guard<std::mutex> lock(mu_);
  if (!accepting_) return;  // the loop is stopping or gone: nothing would ever run it
  posted_.push_back(std::move(fn));
  uv_async_send(&async_);
}

void Worker::next_tick(std::function<void()> fn) {
  ticks_.push_back(std::move(fn));
  if (!idle_active_) {
    idle_active_ = true;
    uv_idle_start(&idle_, &Worker::on_idle);
  }
}

void Worker::at_batch_end(BatchEnd& item) {
  if (item.queued_) return;
  item.queued_ = true;
  if (batch_.empty()) arm_batch_handles();
  batch_.push_back(&item);
}

void Worker::cancel_batch_end(BatchEnd& item) {
  if (!item.queued_) return;
  item.queued_ = false;
  // Also in a batch being run: run_batch_end() skips it by the flag, and the item outlives the
  // running batch (owners are freed in close callbacks, never inside on_batch_end).
  for (size_t i = 0; i < batch_.size(); ++i) {
    if (batch_[i] == &item) {
      batch_.erase(batch_.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
}

void Worker::arm_batch_handles() {
  uv_check_start(&batch_check_,
                 [](uv_check_t* h) noexcept { static_cast<Worker*>(h->data)->run_batch_end(); });
  uv_prepare_start(&batch_prepare_, [](uv_prepare_t* h) noexcept {
    static_cast<Worker*>(h->data)->run_batch_end();
  });
}

void Worker::run_batch_end() {
  std::vector<BatchEnd*> running;
  running.swap(batch_spare_);
  running.clear();
  running.swap(batch_);  // batch_ takes the spare memory; items queued meanwhile go there
  uv_check_stop(&batch_check_);
  uv_prepare_stop(&batch_prepare_);
  for (BatchEnd* item : running) {
    if (!item->queued_) continue;  // cancelled while this batch ran
    item->queued_ = false;
    item->on_batch_end();
  }
  if (!batch_.empty()) arm_batch_handles();
  running.clear();
  batch_spare_.swap(running);
}

void Worker::on_async(uv_async_t* handle) noexcept {
  static_cast<Worker*>(handle->data)->drain_posted();
}

void Worker::drain_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void Worker::on_idle(uv_idle_t* handle) noexcept {
  Worker* self = static_cast<Worker*>(handle->data);
  // The batch runs out of a vector that keeps its memory from turn to turn, so a tick costs no
  // allocation for the queue once it has grown (ticks queued meanwhile go to ticks_).
  std::vector<std::function<void()>> batch;
  batch.swap(self->spare_ticks_);
  batch.swap(self->ticks_);
  for (auto& fn : batch) fn();
  batch.clear();
  self->spare_ticks_.swap(batch);
  if (self->ticks_.empty()) {
    uv_idle_stop(&self->idle_);
    self->idle_active_ = false;
  }
}

void Worker::start(std::function<void()> on_start) {
  thread_ = std::thread([this, on_start = std::move(on_start)] {
    if (on_start) on_start();
    run();
  });
}

void Worker::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Worker::stop(std::function<void()> on_stop) {
  post([this, on_stop = std::move(on_stop)] {
    if (stopping_) return;
    stopping_ = true;
    if (on_stop) on_stop();
    // Run whatever is still queued, then close our own handles; the loop ends when the
    // owner's handles are closed too.
    drain_posted();
    {
      std::lock_guard<std::mutex> lock(mu_);
      accepting_ = false;
    }
    drain_posted();
    uv_idle_stop(&idle_);
    while (!ticks_.empty()) {  // ticks may queue more ticks
      std::vector<std::function<void()>> batch;
      batch.swap(ticks_);
      for (auto& fn : batch) fn();
    }
    run_batch_end();
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&batch_check_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&batch_prepare_), nullptr);
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

struct Timer::Handle {
  uv_timer_t timer{};
  std::function<void()> fn;
  bool orphaned = false;  // the Timer object is gone; free on close
  bool running_callback = false;
};

Timer::Timer(uv_loop_t* loop) : handle_(new Handle) {
  uv_timer_init(loop, &handle_->timer);
  handle_->timer.data = handle_;
}

Timer::~Timer() {
  uv_timer_stop(&handle_->timer);
  handle_->orphaned = true;
  if (handle_->running_callback) {
    // We are inside fn: keep the closure alive until it returns; on_fire closes the handle.
    return;
  }
  handle_->fn = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* h) noexcept { delete static_cast<Handle*>(h->data); });
}

void Timer::start(uint64_t delay_ms, std::function<void()> fn, uint64_t repeat_ms) {
  handle_->fn = std::move(fn);
  uv_timer_start(
      &handle_->timer,
      [](uv_timer_t* t) noexcept {
        Handle* h = static_cast<Handle*>(t->data);
        h->running_callback = true;
        auto fn = h->fn;  // copy: fn may restart or destroy the timer
        if (fn) fn();
        h->running_callback = false;
        if (h->orphaned) {
          h->fn = nullptr;
          uv_close(reinterpret_cast<uv_handle_t*>(&h->timer),
                   [](uv_handle_t* hh) noexcept { delete static_cast<Handle*>(hh->data); });
        }
      },
      delay_ms, repeat_ms);
}

void Timer::stop() {
  uv_timer_stop(&handle_->timer);
}

bool Timer::active() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle_->timer)) != 0;
}

}  // namespace gemgate
