// How a statistics window is answered from the usage rollups, shared by both stores so they
// return the same UsageStats for the same rows. A window [from, to) is cut into parts that
// never overlap, each read from the coarsest rollup table that covers it exactly (see
// storage/README.md "Statistics"). Pure arithmetic: no SQL dialect here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "storage/types.h"

namespace gemgate::storage::usage {

inline constexpr Millis kSecondMs = 1000;
inline constexpr Millis kMinuteMs = 60'000;
inline constexpr Millis kHourMs = 3'600'000;
inline constexpr Millis kDayMs = 24 * kHourMs;
// Windows up to this long get sub-hour series buckets and second/minute-exact starts.
inline constexpr Millis kRawOnlyWindowMs = 2 * kHourMs;
inline constexpr Millis kMaxWindowMs = 400 * kDayMs;

inline Millis floor_to(Millis t, Millis step) {
  Millis q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

inline Millis ceil_to(Millis t, Millis step) {
  const Millis f = floor_to(t, step);
  return f == t ? t : f + step;
}

// True when a request counts as failed in statistics: status >= 400, or 0 (no response).
inline bool is_failure(int status) {
  return status >= 400 || status == 0;
}

inline void add(UsageTotals& into, const UsageTotals& u) {
  into.requests += u.requests;
  into.failures += u.failures;
  into.prompt_tokens += u.prompt_tokens;
  into.completion_tokens += u.completion_tokens;
  into.total_tokens += u.total_tokens;
}

// One rollup table as a source of (t, key_id, model, requests, failures, prompt, completion,
// total) rows.
struct Level {
  const char* table;
  const char* time_col;
  const char* key_col;    // "key_id", or "0" for the per-model tables
  const char* model_col;  // "model", or "''" for the per-key tables
  Millis step;
};

inline constexpr Level kModelLevels[] = {
    {"usage_hourly_model", "hour_ms", "0", "model", kHourMs},
    {"usage_second_model", "sec_ms", "0", "model", kSecondMs},
};
inline constexpr Level kKeyLevels[] = {
    {"usage_daily_key", "day_ms", "key_id", "''", kDayMs},
    {"usage_hourly_key", "hour_ms", "key_id", "''", kHourMs},
    {"usage_minute_key", "minute_ms", "key_id", "''", kMinuteMs},
};

// [from, to) widened to what `levels` answer exactly: the start down to `start_step`, the end
// up to the COARSEST level's step. The end is "now": no row is logged after it, so the rollup
// row of the current hour (or day) holds exactly the rows up to now, and reading it whole costs
// one row per key or model instead of the minutes or seconds that make it up.
inline std::pair<Millis, Millis> align(Millis from, Millis to, Millis start_step,
                                       std::span<const Level> levels) {
  const Millis finest = levels.back().step;
  return {floor_to(from, std::max(start_step, finest)), ceil_to(to, levels.front().step)};
}

// A slice [from, to) of the window read from `level` (nullptr: from raw log rows).
struct Part {
  const Level* level;
  Millis from, to;
};

// Covers [from, to) with the coarsest levels first. With [from, to) aligned to the finest
// level (align()), every part is a rollup; a raw part would only appear for unaligned input.
inline void cover(Millis from, Millis to, std::span<const Level> levels, std::vector<Part>& out) {
  if (from >= to) return;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const Millis a = ceil_to(from, levels[i].step);
    const Millis b = floor_to(to, levels[i].step);
    if (a < b) {
      out.push_back({&levels[i], a, b});
      cover(from, a, levels.subspan(i + 1), out);
      cover(b, to, levels.subspan(i + 1), out);
      return;
    }
  }
  out.push_back({nullptr, from, to});
}

inline std::vector<Part> plan(Millis from, Millis to, std::span<const Level> levels) {
  std::vector<Part> parts;
  cover(from, to, levels, parts);
  return parts;
}

// The smallest round bucket width giving at most max_buckets points over `window` (1 s ... 30
// days, then multiples of 30 days). For series read from raw rows (one token's statistics).
inline Millis round_bucket(Millis window, int max_buckets) {
  static constexpr Millis kNice[] = {
      kSecondMs,      2 * kSecondMs, 5 * kSecondMs, 10 * kSecondMs, 15 * kSecondMs, 30 * kSecondMs,
      60 * kSecondMs, 2 * 60'000,    5 * 60'000,    10 * 60'000,    15 * 60'000,    30 * 60'000,
      kHourMs,        2 * kHourMs,   3 * kHourMs,   6 * kHourMs,    12 * kHourMs,   kDayMs,
      2 * kDayMs,     7 * kDayMs,    14 * kDayMs,   30 * kDayMs};
  const Millis n = std::clamp(max_buckets, 1, 1000);
  const Millis want = (window + n - 1) / n;
  for (Millis nice : kNice) {
    if (nice >= want) return nice;
  }
  return ceil_to(want, 30 * kDayMs);
}

// As round_bucket, but whole hours (so rollup hours never straddle two buckets) once the window
// is too long to read from raw rows.
inline Millis pick_bucket(Millis window, int max_buckets) {
  const Millis bucket = round_bucket(window, max_buckets);
  return window > kRawOnlyWindowMs ? std::max(bucket, kHourMs) : bucket;
}

// The parts a usage_stats() window reads: model side and key side, plus the bucket width.
struct WindowPlan {
  Millis bucket_ms = 0;
  Millis model_from = 0;  // the series' first bucket starts at floor_to(model_from, bucket_ms)
  std::vector<Part> model_parts;
  std::vector<Part> key_parts;
};

inline WindowPlan plan_window(const StatsQuery& q) {
  WindowPlan w;
  const Millis from = q.now_ms - q.window_ms;
  w.bucket_ms = pick_bucket(q.window_ms, q.max_buckets);
  const bool long_window = q.window_ms > kRawOnlyWindowMs;
  // Sub-hour buckets cannot take whole rollup hours: the model side then reads seconds only.
  const std::span<const Level> model_levels = w.bucket_ms >= kHourMs
                                                  ? std::span<const Level>(kModelLevels)
                                                  : std::span<const Level>(kModelLevels).subspan(1);
  const auto [mfrom, mto] = align(from, q.now_ms, long_window ? kHourMs : kSecondMs, model_levels);
  const auto [kfrom, kto] = align(from, q.now_ms, long_window ? kHourMs : kMinuteMs, kKeyLevels);
  w.model_from = mfrom;
  w.model_parts = plan(mfrom, mto, model_levels);
  w.key_parts = plan(kfrom, kto, kKeyLevels);
  return w;
}

// The parts key_usage() reads for [from_ms, to_ms).
inline std::vector<Part> plan_key_range(Millis from_ms, Millis to_ms) {
  const auto [from, to] =
      align(from_ms, to_ms, to_ms - from_ms > kRawOnlyWindowMs ? kHourMs : kMinuteMs, kKeyLevels);
  return plan(from, to, kKeyLevels);
}

}  // namespace gemgate::storage::usage
