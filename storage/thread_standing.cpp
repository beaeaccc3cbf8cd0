// ThreadStanding: the storage thread's scheduling standing (see thread_standing.h).
#include "storage/thread_standing.h"

#include <algorithm>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace gemgate::storage {

Standing next_standing(Standing now, std::size_t queued, std::size_t batch_rows,
                       std::size_t behind_batches, bool may_idle) {
  if (queued <= 2 * batch_rows) return may_idle ? Standing::kIdle : Standing::kLow;
  if (queued < behind_batches * batch_rows) return now;
  return now == Standing::kIdle ? Standing::kLow : Standing::kNormal;
}

namespace {

// setpriority(2) and sched_setscheduler(2) on one thread (on Linux a thread id names one
// thread, and a thread of the same process may change another's under the same rules).
bool set_nice(pid_t tid, int nice) {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice) == 0;
}

bool set_policy(pid_t tid, int policy) {
  sched_param none{};  // SCHED_OTHER and SCHED_IDLE take priority 0; the nice value is kept
  return sched_setscheduler(tid, policy, &none) == 0;
}

}  // namespace

ThreadStanding::ThreadStanding(int nice_offset)
    : tid_(gettid()),
      base_nice_(getpriority(PRIO_PROCESS, static_cast<id_t>(tid_))),
      low_nice_(std::min(base_nice_ + std::max(nice_offset, 0), 19)) {
  if (low_nice_ == base_nice_ || !set_nice(tid_, low_nice_)) return;  // no lower standing
  current_ = Standing::kLow;
  // A thread may leave SCHED_IDLE only as far as it may lower its nice value (and going back
  // to the process's own is the stricter of the two): try that once, here, instead of finding
  // out while stuck in SCHED_IDLE on a saturated machine.
  if (set_nice(tid_, base_nice_)) {
    may_idle_ = true;
    set_nice(tid_, low_nice_);  // lowering the priority is always allowed
  }
}

bool ThreadStanding::apply(Standing s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (s == current_) return true;
  if (s == Standing::kIdle) {
    if (!may_idle_ || !set_nice(tid_, low_nice_)) return false;
    current_ = Standing::kLow;  // SCHED_OTHER at low_nice_ now, whatever comes next
    if (!set_policy(tid_, SCHED_IDLE)) return false;
    current_ = s;
    return true;
  }
  if (current_ == Standing::kIdle) {
    if (!set_policy(tid_, SCHED_OTHER)) return false;
    current_ = Standing::kLow;  // SCHED_OTHER at low_nice_, which kIdle kept
    if (s == Standing::kLow) return true;
  }
  if (!set_nice(tid_, s == Standing::kLow ? low_nice_ : base_nice_)) return false;
  current_ = s;
  return true;
}

bool ThreadStanding::lift_from_idle() {
  // try_lock: the owner holds mu_ only around its own system calls; if it was preempted there
  // (under SCHED_IDLE it may wait long for the CPU), waiting for it would be the very delay
  // this call exists to end. The next caller tries again.
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || current_ != Standing::kIdle) return false;
  if (!set_policy(tid_, SCHED_OTHER)) return false;
  current_ = Standing::kLow;
  return true;
}

Standing ThreadStanding::current() const {
  return current_.load(std::memory_order_relaxed);
}

int ThreadStanding::nice_value() const {
  return getpriority(PRIO_PROCESS, static_cast<id_t>(tid_));
}

}  // namespace gemgate::storage
