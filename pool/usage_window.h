// UsageWindow: the requests and tokens one pool key served in the last 60 seconds, in this
// process, at one-second resolution. Backs the per-key rpm/tpm limits (a key at its limit is
// skipped by selection, never penalised) and the admin's "last minute" figures. Thread-safe
// behind one short lock per key.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>

namespace gemgate::pool {

class UsageWindow {
 public:
  struct Totals {
    int64_t requests = 0;
    int64_t tokens = 0;
  };

  // Counts one request at `now_ms` unless the last 60 s already hold `rpm` requests or `tpm`
  // tokens (0 = no limit). Returns 0 when counted, else the milliseconds until the oldest
  // counted second leaves the window (at least 1). Thread-safe.
  int64_t try_take(int64_t now_ms, int64_t rpm, int64_t tpm);
  // Adds `tokens` (from an answer's usage) at `now_ms`. Thread-safe.
  void add_tokens(int64_t now_ms, int64_t tokens);
  // The totals of the 60 s ending at `now_ms`. Thread-safe.
  Totals last_minute(int64_t now_ms) const;

  static constexpr int64_t kSeconds = 60;

 private:
  struct Bucket {
    int64_t second = -1;  // Unix second this bucket counts, -1 = empty
    int64_t requests = 0;
    int64_t tokens = 0;
  };
  // The bucket for `second`, emptied first when it held an older second. Caller holds mu_.
  Bucket& bucket_locked(int64_t second);
  Totals totals_locked(int64_t now_second) const;

  mutable std::mutex mu_;
  std::array<Bucket, kSeconds> buckets_{};
};

}  // namespace gemgate::pool
