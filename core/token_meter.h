// TokenMeter: what each client token has used — requests and tokens in the last minute, today
// and this month — shared by every worker thread, and the limit checks of a TokenPolicy against
// it. Everything here is memory: no storage call, no allocation per request once a token was
// seen (one short lock per token, a shared lock on the table).
//
// Windows:
//   - the minute is a sliding window in one-second steps: the last 60 whole seconds, the current
//     one included (so with rpm 5, a sixth request within any minute is refused);
//   - today and this month are UTC calendar days and months.
// Persistence: increments are kept as per-(token, UTC day) deltas until take_deltas() hands them
// to storage; apply_stored() then replaces today's and this month's totals with what the store
// holds (which, for a group of gateways on one database, is the sum of every instance's writes)
// plus what was counted since. The minute windows are per process.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/credentials.h"

namespace gemgate {

// Days since 1970-01-01 (UTC) of a Unix time in milliseconds.
int64_t utc_day(int64_t unix_ms);
// The UTC day number of the first day of the month `day` falls in.
int64_t utc_month_start(int64_t day);
// The UTC day number of the first day of the month after the one `day` falls in.
int64_t utc_next_month_start(int64_t day);

class TokenMeter {
 public:
  // A refused request: which limit, a message naming it, and when the window frees.
  struct Verdict {
    bool allowed = true;
    std::string limit;           // "rpm", "tpm", "daily_tokens", "monthly_tokens"
    bool quota = false;          // a daily/monthly quota (not a rate)
    std::string message;         // "rpm limit of 5 requests per minute reached for this token"
    int64_t retry_after_ms = 0;  // > 0 when refused
  };

  struct Usage {
    int64_t minute_requests = 0;
    int64_t minute_tokens = 0;
    int64_t day_requests = 0;
    int64_t day_tokens = 0;
    int64_t month_requests = 0;
    int64_t month_tokens = 0;
  };

  // Requests and tokens of one token on one UTC day: a write-behind delta, or a stored total.
  struct DayCount {
    int64_t token_id = 0;
    int64_t day = 0;  // utc_day()
    int64_t requests = 0;
    int64_t tokens = 0;
  };

  // Counts one request of `policy`'s token at `now_ms` unless its rpm limit is reached (then
  // nothing is counted and the verdict says when a slot frees). Thread-safe.
  Verdict admit_request(const TokenPolicy& policy, int64_t now_ms);
  // Checks the token limits (tpm, daily_tokens, monthly_tokens) at `now_ms` without counting:
  // a request is refused once the used tokens reached a limit, so the request that crosses it
  // is the last one served. Thread-safe.
  Verdict check_tokens(const TokenPolicy& policy, int64_t now_ms) const;
  // Charges `tokens` (from an answer's usage) to token `id` at `now_ms`. Thread-safe.
  void charge_tokens(int64_t id, int64_t tokens, int64_t now_ms);
  // What token `id` used, as of `now_ms`. Thread-safe.
  Usage usage(int64_t id, int64_t now_ms) const;

  // Moves out every increment not yet written (one entry per token and day). Thread-safe.
  std::vector<DayCount> take_deltas();
  // Puts deltas back after a failed write, so they go with the next one. Thread-safe.
  void restore_deltas(const std::vector<DayCount>& deltas);
  // Replaces each token's today/this-month totals by `stored` (every stored row of this month,
  // as of a moment after the last take_deltas() was written) plus what was counted since.
  // Tokens absent from `stored` keep only what was counted since. Thread-safe.
  void apply_stored(const std::vector<DayCount>& stored, int64_t now_ms);

 private:
  struct Second {
    int64_t sec = -1;  // Unix second this slot holds
    int64_t requests = 0;
    int64_t tokens = 0;
  };
  struct Counter {
    mutable std::mutex mu;
    std::array<Second, 60> minute{};
    int64_t day = -1;  // utc_day() of day_*
    int64_t day_requests = 0;
    int64_t day_tokens = 0;
    int64_t month = -1;  // utc_month_start() of month_*
    int64_t month_requests = 0;
    int64_t month_tokens = 0;
    std::vector<DayCount> pending;  // not yet written; capacity kept between flushes
  };

  Counter& counter(int64_t id);
  const Counter* find(int64_t id) const;
  // Brings the day/month fields and the second slot of `now_ms` up to date. Requires c.mu.
  static Second& roll(Counter& c, int64_t now_ms);
  static void add(Counter& c, int64_t id, int64_t now_ms, int64_t requests, int64_t tokens);

  mutable std::shared_mutex mu_;
  std::unordered_map<int64_t, std::unique_ptr<Counter>> counters_;
};

}  // namespace gemgate
