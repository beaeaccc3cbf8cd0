// A Transfer that only reports a setup failure, asynchronously; see deferred_failure.h.
#include "transports/deferred_failure.h"

namespace gemgate::transport::detail {

namespace {

// Heap state owned by its timer: freed in the timer's close callback, whichever of "fired" and
// "Transfer destroyed" comes first.
struct Pending {
  uv_timer_t timer;
  UpstreamHandler* handler = nullptr;
  Failure failure;
  Pending** owner_slot = nullptr;  // the DeferredFailure's pointer to us
};

void close_pending(Pending* p) {
  uv_timer_stop(&p->timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&p->timer),
           [](uv_handle_t* h) noexcept { delete static_cast<Pending*>(h->data); });
}

class DeferredFailure final : public Transfer {
 public:
  DeferredFailure(uv_loop_t* loop, UpstreamHandler& handler, Failure failure)
      : pending_(new Pending) {
    pending_->handler = &handler;
    pending_->failure = std::move(failure);
    pending_->owner_slot = &pending_;
    uv_timer_init(loop, &pending_->timer);
    pending_->timer.data = pending_;
    uv_timer_start(&pending_->timer, &DeferredFailure::on_timer, 0, 0);
  }

  ~DeferredFailure() override {
    if (pending_) close_pending(pending_);  // not reported yet: never will be
  }

  void pause() override {}
  void resume() override {}

 private:
  static void on_timer(uv_timer_t* timer) noexcept {
    auto* p = static_cast<Pending*>(timer->data);
    UpstreamHandler* handler = p->handler;
    Failure failure = std::move(p->failure);
    *p->owner_slot = nullptr;  // the handler may destroy the Transfer; it must not close twice
    close_pending(p);
    handler->on_upstream_done(&failure);
  }

  Pending* pending_;
};

}  // namespace

std::unique_ptr<Transfer> make_deferred_failure(uv_loop_t* loop, UpstreamHandler& handler,
                                                Failure failure) {
  return std::make_unique<DeferredFailure>(loop, handler, std::move(failure));
}

}  // namespace gemgate::transport::detail
