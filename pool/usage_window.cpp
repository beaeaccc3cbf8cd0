#include "pool/usage_window.h"

#include <algorithm>

namespace gemgate::pool {

namespace {

int64_t second_of(int64_t ms) {
  return ms >= 0 ? ms / 1000 : 0;
}

}  // namespace

UsageWindow::Bucket& UsageWindow::bucket_locked(int64_t second) {
  Bucket& b = buckets_[static_cast<size_t>(second % kSeconds)];
  if (b.second != second) b = Bucket{second, 0, 0};
  return b;
}

UsageWindow::Totals UsageWindow::totals_locked(int64_t now_second) const {
  Totals t;
  for (const Bucket& b : buckets_) {
    if (b.second > now_second - kSeconds && b.second <= now_second) {
      t.requests += b.requests;
      t.tokens += b.tokens;
    }
  }
  return t;
}

int64_t UsageWindow::try_take(int64_t now_ms, int64_t rpm, int64_t tpm) {
  const int64_t now_second = second_of(now_ms);
  std::lock_guard<std::mutex> lock(mu_);
  if (rpm > 0 || tpm > 0) {
    Totals t = totals_locked(now_second);
    if ((rpm > 0 && t.requests >= rpm) || (tpm > 0 && t.tokens >= tpm)) {
      // The window frees room when its oldest non-empty second leaves it.
      int64_t oldest = now_second;
      for (const Bucket& b : buckets_) {
        if (b.second > now_second - kSeconds && b.second <= now_second &&
            (b.requests > 0 || b.tokens > 0)) {
          oldest = std::min(oldest, b.second);
        }
      }
      return std::max<int64_t>(1, (oldest + kSeconds) * 1000 - now_ms);
    }
  }
  ++bucket_locked(now_second).requests;
  return 0;
}

void UsageWindow::add_tokens(int64_t now_ms, int64_t tokens) {
  if (tokens <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  bucket_locked(second_of(now_ms)).tokens += tokens;
}

UsageWindow::Totals UsageWindow::last_minute(int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_locked(second_of(now_ms));
}

}  // namespace gemgate::pool
