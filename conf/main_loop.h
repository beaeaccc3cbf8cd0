// Gateway::MainLoop: the main thread's loop and what it holds (signal watchers, the housekeeping
// timers and their bookkeeping). Private to conf/: gateway.cpp makes it, main_loop.cpp runs it.
#pragma once

#include <cstdint>
#include <memory>
#include <uv.h>

#include "conf/gateway.h"

namespace gemgate::conf {

// The main thread's loop: signals and periodic housekeeping. Main thread only.
struct Gateway::MainLoop {
  Worker loop{-1};
  uv_signal_t sigint{};
  uv_signal_t sigterm{};
  uv_signal_t sighup{};
  std::unique_ptr<Timer> reload_soon;  // a SIGHUP's reload, on the next loop turn
  bool reload_pending = false;
  std::unique_ptr<Timer> health_flush;
  std::unique_ptr<Timer> tick;
  int64_t last_health_check_ms = 0;
  int64_t last_retention_ms = 0;
  int64_t last_row_cap_ms = 0;
  int64_t last_group_resync_ms = 0;
  bool stopping = false;
};

}  // namespace gemgate::conf
