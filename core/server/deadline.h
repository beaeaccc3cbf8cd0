// Deadlines: a few one-shot timeouts of one owner that move often and rarely fire, such as a
// connection's head, keep-alive, request and write-stall timeouts, all on ONE uv timer held
// inline (no heap handle per timeout: at ten thousand live connections, four heap timers each
// cost ~8 MB). set() and clear() only record the new deadline; the uv timer is touched only
// when a deadline comes earlier than the time it is armed for. When the timer fires, each
// deadline that has passed fires (in index order) and the timer re-arms for the earliest one
// left; one that was moved later meanwhile just waits, and one cleared does nothing. So the
// requests of a keep-alive connection cost no timer-heap operations (nginx keeps its timers
// lazy likewise). Loop thread only. The owner must close() it and wait for `closed` before the
// memory goes; a deadline's callback may close() it (no deadline fires afterwards).
#pragma once

#include <cstddef>
#include <cstdint>
#include <uv.h>

namespace gemgate::server {

class Deadlines {
 public:
  static constexpr size_t kMax = 4;
  // Runs when deadline `which` passed without a later set() or clear(): `owner` as given.
  using Fire = void (*)(void* owner, size_t which);
  // Runs in the uv handle's close callback: the Deadlines may be destroyed from then on.
  using Closed = void (*)(void* owner);

  Deadlines(uv_loop_t* loop, void* owner, Fire fire) : owner_(owner), fire_(fire) {
    uv_timer_init(loop, &timer_);
    timer_.data = this;
  }
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;

  // Deadline `which` (< kMax) is now + `delay_ms`, replacing any earlier one. Nothing after
  // close().
  void set(size_t which, uint64_t delay_ms) {
    if (closing_) return;
    uint64_t at = uv_now(timer_.loop) + delay_ms;
    due_[which] = at;
    pending_ |= bit(which);
    if (armed() && armed_for_ <= at) return;  // fires first, then re-arms for the rest
    arm(at);
  }
  // Deadline `which` is off (the armed timer, if any, fires later without effect).
  void clear(size_t which) { pending_ &= static_cast<uint8_t>(~bit(which)); }
  bool pending(size_t which) const { return (pending_ & bit(which)) != 0; }

  // Clears every deadline and closes the uv handle; `closed(owner)` runs from its close
  // callback. Once only.
  void close(Closed closed) {
    closing_ = true;
    pending_ = 0;
    closed_ = closed;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* h) noexcept {
      auto* self = static_cast<Deadlines*>(h->data);
      self->closed_(self->owner_);
    });
  }

 private:
  static uint8_t bit(size_t which) { return static_cast<uint8_t>(1u << which); }
  bool armed() const { return uv_is_active(reinterpret_cast<const uv_handle_t*>(&timer_)) != 0; }
  void arm(uint64_t at) {
    uint64_t now = uv_now(timer_.loop);
    armed_for_ = at;
    uv_timer_start(&timer_, &Deadlines::on_timer, at > now ? at - now : 0, 0);
  }
  static void on_timer(uv_timer_t* t) noexcept {
    auto* self = static_cast<Deadlines*>(t->data);
    uint64_t now = uv_now(t->loop);
    for (size_t i = 0; i < kMax; ++i) {
      // Read afresh each time: an earlier callback may have cleared, set or closed.
      if (!self->pending(i) || self->due_[i] > now) continue;
      self->clear(i);
      self->fire_(self->owner_, i);
    }
    if (self->closing_) return;
    bool any = false;
    uint64_t next = 0;
    for (size_t i = 0; i < kMax; ++i) {
      if (!self->pending(i)) continue;
      if (!any || self->due_[i] < next) next = self->due_[i];
      any = true;
    }
    if (any && !(self->armed() && self->armed_for_ <= next)) self->arm(next);
  }

  uv_timer_t timer_{};
  void* owner_;
  Fire fire_;
  Closed closed_ = nullptr;
  uint64_t due_[kMax] = {};  // loop time (ms) of each deadline, while pending
  uint64_t armed_for_ = 0;   // when the uv timer fires, while it is active
  uint8_t pending_ = 0;      // one bit per deadline
  bool closing_ = false;
};

}  // namespace gemgate::server
