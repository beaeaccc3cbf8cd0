// Deadline: a one-shot timeout that moves often and rarely fires, such as a connection's head,
// keep-alive and request timeouts, which every request sets and clears. set() and clear() only
// record the new deadline; the uv timer is touched only when a deadline comes earlier than the
// time it is armed for. A timer that fires before the deadline (it was moved later meanwhile)
// re-arms for the rest, and one that fires after clear() does nothing. So the requests of a
// keep-alive connection cost no timer-heap operations (nginx keeps its timers lazy likewise).
// Loop thread only; like Timer, it may be destroyed from inside its own callback.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <uv.h>

#include "core/worker.h"

namespace gemgate::server {

class Deadline {
 public:
  // `fn` runs once each time a deadline set() passes without a later set() or clear().
  Deadline(uv_loop_t* loop, std::function<void()> fn)
      : loop_(loop), timer_(loop), fn_(std::move(fn)) {}

  // The deadline is now + `delay_ms` (replacing any earlier one).
  void set(uint64_t delay_ms) {
    uint64_t at = uv_now(loop_) + delay_ms;
    due_ = at;
    set_ = true;
    if (timer_.active() && armed_for_ <= at) return;  // fires first, then re-arms for the rest
    arm(delay_ms);
  }
  // No deadline any more (the armed timer, if any, fires later without effect).
  void clear() { set_ = false; }
  bool pending() const { return set_; }

 private:
  void arm(uint64_t delay_ms) {
    armed_for_ = uv_now(loop_) + delay_ms;
    timer_.start(delay_ms, [this] { on_fire(); });
  }
  void on_fire() {
    if (!set_) return;
    uint64_t now = uv_now(loop_);
    if (now < due_) {
      arm(due_ - now);
      return;
    }
    set_ = false;
    fn_();
  }

  uv_loop_t* loop_;
  Timer timer_;
  std::function<void()> fn_;
  uint64_t due_ = 0;        // the deadline (loop time, ms), when set_
  uint64_t armed_for_ = 0;  // when the uv timer fires, while it is active
  bool set_ = false;
};

}  // namespace gemgate::server
