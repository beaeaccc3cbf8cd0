// HeapTrim: gives the heap a burst of connections left behind back to the system. glibc keeps
// the memory of freed chunks in its arenas; after 10 000 slow streams ended a worker kept
// ~230 MB it no longer used, for as long as the process lived. malloc_trim(0) returns the free
// pages (at the top of each heap and, since glibc 2.8, inside them too). It walks every arena,
// so it is called rarely and never per request: only when a worker's live connection count has
// fallen a long way from its peak and stayed down for a moment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <uv.h>

#include "core/worker.h"

namespace gemgate::server {

// The decision alone (no timer, no libc): when a trim is worth scheduling and, once its delay
// has passed, whether it is still due. Pure, so it can be tested step by step.
class TrimPolicy {
 public:
  // A trim is due once the live count is at most peak / kFallFactor and at least kMinFall
  // connections below the peak (a small worker's churn is not a burst).
  static constexpr size_t kFallFactor = 4;
  static constexpr size_t kMinFall = 512;
  // Delay between the fall and the trim: the count must stay down, and a burst that ends
  // gradually yields one trim, not one per closed connection.
  static constexpr uint64_t kSettleMs = 2000;

  // The live count changed to `live`. Returns true when the caller should arm its delay (the
  // first time the count is down far enough since the last trim; false while one is armed).
  bool note(size_t live);
  // The delay passed. Returns true when the caller should trim now: the count is still down.
  // Either way the delay is over; after a trim the peak restarts from `live`.
  bool fire(size_t live);
  size_t peak() const { return peak_; }

 private:
  bool due(size_t live) const;
  size_t peak_ = 0;
  bool armed_ = false;
};

// Owns the policy and its timer for one worker's Server. Loop thread only.
class HeapTrim {
 public:
  // `live` returns the worker's live connection count when the delay ends (Server's count).
  HeapTrim(uv_loop_t* loop, std::function<size_t()> live) : loop_(loop), live_(std::move(live)) {}
  // Called with the worker's live connection count after every accept and close. Costs a few
  // comparisons; the timer is made on first use.
  void note(size_t live) {
    if (policy_.note(live)) arm();
  }
  // Returns free heap memory to the system now (glibc's malloc_trim; elsewhere nothing) and
  // logs how much the process's resident set shrank. Any thread; takes a few milliseconds on a
  // heap of hundreds of MB.
  static void trim_now();

 private:
  void arm();
  uv_loop_t* loop_;
  TrimPolicy policy_;
  std::unique_ptr<Timer> timer_;
  std::function<size_t()> live_;
};

}  // namespace gemgate::server
