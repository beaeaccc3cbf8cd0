#include "core/server/heap_trim.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/log.h"

namespace gemgate::server {

namespace {

// Resident set in bytes from /proc/self/statm (0 where there is none).
uint64_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE))
                : 0;
}

}  // namespace

bool TrimPolicy::due(size_t live) const {
  return peak_ >= live + kMinFall && live * kFallFactor <= peak_;
}

bool TrimPolicy::note(size_t live) {
  if (live > peak_) peak_ = live;
  if (armed_ || !due(live)) return false;
  armed_ = true;
  return true;
}

bool TrimPolicy::fire(size_t live) {
  armed_ = false;
  if (!due(live)) return false;
  peak_ = live;
  return true;
}

void HeapTrim::arm() {
  if (!timer_) timer_ = std::make_unique<Timer>(loop_);
  timer_->start(TrimPolicy::kSettleMs, [this] {
    size_t live = live_();
    size_t peak = policy_.peak();
    if (!policy_.fire(live)) return;
    log::info("heap trim: live connections " + std::to_string(live) + " (peak " +
              std::to_string(peak) + ")");
    trim_now();
  });
}

void HeapTrim::trim_now() {
#if defined(__GLIBC__)
  uint64_t before = resident_bytes();
  auto started = std::chrono::steady_clock::now();
  malloc_trim(0);
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
  uint64_t after = resident_bytes();
  log::info("heap trim: resident " + std::to_string(before >> 20) + " -> " +
            std::to_string(after >> 20) + " MiB in " + std::to_string(took / 1000) + " ms");
#endif
}

}  // namespace gemgate::server
