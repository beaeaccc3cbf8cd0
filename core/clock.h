// The wall clock, in one place. Everything that stores or compares a point in time (key health,
// cooldowns, sessions, logs, settings stamps) uses Unix milliseconds from here, so that values
// written by one component and read by another (storage, admin, the pool) agree on the unit and
// the epoch. Durations and timeouts use steady clocks instead; this one may jump.
#pragma once

#include <chrono>
#include <cstdint>

namespace gemgate {

// Milliseconds since the Unix epoch (system clock). Any thread.
inline int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gemgate
