// ThreadStanding: how much of the CPU the storage thread asks the kernel for, decided from how far
// its write-behind queue is behind (next_standing(), pure) and applied to the thread that made
// the ThreadStanding (apply(); lift_from_idle() from any other thread).
//
// The standings, lowest first:
//   kIdle   SCHED_IDLE: the thread runs only on a CPU nothing else wants, and the kernel counts a
//           CPU running it as idle, so a waking worker is placed there and preempts it at once:
//           while the log keeps up, its writes never delay a request (issue 13: the gateway's
//           p99 at one worker fell from ~3.9 ms to ~1.9 ms, the same as without the stored log).
//   kLow    SCHED_OTHER at `nice_offset` above the process's nice value: a worker woken on its
//           CPU takes it back within about a millisecond, and on a saturated machine it still
//           gets about a third of a nice-0 competitor's share.
//   kNormal SCHED_OTHER at the process's own nice value.
// Leaving kIdle, and going from kLow to kNormal, raises the thread's priority, which Linux allows
// only with CAP_SYS_NICE or an RLIMIT_NICE that permits the nice value risen to. The constructor
// finds out once whether the thread may go back to the process's nice value (the stricter of
// the two); kIdle is used only then (a thread stuck in SCHED_IDLE on a saturated machine would
// write nothing, and the queue would fill). A thread created from a thread in kIdle inherits
// SCHED_IDLE: the storage thread creates none.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <sys/types.h>

namespace gemgate::storage {

enum class Standing { kIdle, kLow, kNormal };

// The standing for a queue of `queued` rows of `batch_rows`-row batches, from `now`: the lowest
// allowed (kIdle when `may_idle`, else kLow) while at most two batches wait (a batch is written
// when one is full, a little more by the time the thread runs); one standing higher than `now`
// once `behind_batches` wait (the thread is not getting the CPU it needs; a batch takes every
// queued row, so the next call sees what arrived meanwhile); otherwise `now`, so a queue
// hovering at one threshold does not flap.
Standing next_standing(Standing now, std::size_t queued, std::size_t batch_rows,
                       std::size_t behind_batches, bool may_idle);

// The scheduling standing of the thread that constructed it (its owner). apply() is for the
// owner; lift_from_idle(), current(), may_idle() and nice_value() may be called from any thread.
class ThreadStanding {
 public:
  // Records the calling thread's nice value as the process's own, moves the thread to kLow, and
  // probes whether it may raise its priority back (then kIdle is allowed). `nice_offset` 0
  // means no lower standing at all: kLow and kNormal are then the process's priority alike.
  explicit ThreadStanding(int nice_offset);

  // Owner only: puts the owner in `s`. Returns false when the kernel refuses (a rise without
  // the privilege described above, or SCHED_IDLE refused by a sandbox); current() then says
  // where the thread is.
  bool apply(Standing s);

  // From any thread: moves the owner from kIdle to kLow, for someone who must not wait on a
  // thread the kernel may starve (work was handed to it, its queue is behind). Returns true
  // when it did; false when the owner was not in kIdle, or was changing its standing just then.
  // The owner's next apply() decides from there.
  bool lift_from_idle();

  Standing current() const;
  // kIdle may be used (and left again).
  bool may_idle() const { return may_idle_; }
  int nice_value() const;  // the owner's nice value now (kIdle keeps kLow's)

 private:
  const pid_t tid_;
  const int base_nice_;
  const int low_nice_;
  bool may_idle_ = false;  // set in the constructor only
  std::mutex mu_;          // held by a change of standing (its system calls)
  std::atomic<Standing> current_{Standing::kNormal};
};

}  // namespace gemgate::storage
