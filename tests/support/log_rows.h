// Synthetic request-log rows for the storage tests and the statistics benchmarks: a fixed mix of
// statuses, models (one in four unnamed) and keys, reproducible from a seed. Header-only and
// free of any test framework, so benchmarks can use it too.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "storage/types.h"

namespace gemgate::storage::testing {

// `n` rows with times spread over the `span` milliseconds before `end_ms`, keys 1..keys or none,
// in generation order (not sorted by time).
inline std::vector<RequestLogRow> random_log_rows(int n, unsigned seed, int64_t end_ms,
                                                  int64_t span, int keys) {
  std::mt19937_64 rng(seed);
  static const int kStatus[] = {200, 200, 200, 200, 429, 500, 503, 400, 0, 301};
  static const char* kModels[] = {"gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", ""};
  std::vector<RequestLogRow> rows;
  rows.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    RequestLogRow r;
    r.time_ms = end_ms - static_cast<int64_t>(rng() % static_cast<std::uint64_t>(span));
    const int key = static_cast<int>(rng() % static_cast<std::uint64_t>(keys + 1));
    if (key > 0) r.key_id = key;
    r.model = kModels[rng() % 4];
    r.status = kStatus[rng() % 10];
    r.prompt_tokens = static_cast<std::int64_t>(rng() % 1000);
    r.completion_tokens = static_cast<std::int64_t>(rng() % 500);
    r.total_tokens = r.prompt_tokens + r.completion_tokens;
    rows.push_back(r);
  }
  return rows;
}

}  // namespace gemgate::storage::testing
