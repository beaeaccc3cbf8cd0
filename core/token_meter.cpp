#include "core/token_meter.h"

#include <algorithm>

#include "core/text.h"

namespace gemgate {

namespace {

constexpr int64_t kDayMs = 86'400'000;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after the
// well-known era-based formulas: exact for any day, no table, no time zone database.
struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string per_minute_message(const char* limit, int64_t n, const char* what) {
  return std::string(limit) + " limit of " + std::to_string(n) + " " + what +
         " per minute reached for this token";
}

}  // namespace

int64_t utc_day(int64_t unix_ms) {
  return floor_div(unix_ms, kDayMs);
}

int64_t utc_month_start(int64_t day) {
  Civil c = civil_from_days(day);
  return days_from_civil(c.year, c.month, 1);
}

int64_t utc_next_month_start(int64_t day) {
  Civil c = civil_from_days(day);
  return c.month == 12 ? days_from_civil(c.year + 1, 1, 1)
                       : days_from_civil(c.year, c.month + 1, 1);
}

bool TokenPolicy::allows_model(std::string_view model) const {
  if (models.empty()) return true;
  for (const std::string& m : models) {
    if (text::glob_match(m, model)) return true;
  }
  return false;
}

TokenMeter::Counter& TokenMeter::counter(int64_t id) {
  {
    std::shared_lock lock(mu_);
    auto it = counters_.find(id);
    if (it != counters_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = counters_[id];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;  // counters are never removed, so the reference outlives the lock
}

const TokenMeter::Counter* TokenMeter::find(int64_t id) const {
  std::shared_lock lock(mu_);
  auto it = counters_.find(id);
  return it == counters_.end() ? nullptr : it->second.get();
}

TokenMeter::Second& TokenMeter::roll(Counter& c, int64_t now_ms) {
  const int64_t day = utc_day(now_ms);
  if (day != c.day) {
    c.day = day;
    c.day_requests = c.day_tokens = 0;
  }
  const int64_t month = utc_month_start(day);
  if (month != c.month) {
    c.month = month;
    c.month_requests = c.month_tokens = 0;
  }
  const int64_t sec = floor_div(now_ms, 1000);
  Second& s = c.minute[static_cast<size_t>(((sec % 60) + 60) % 60)];
  if (s.sec != sec) s = Second{sec, 0, 0};
  return s;
}

void TokenMeter::add(Counter& c, int64_t id, int64_t now_ms, int64_t requests, int64_t tokens) {
  Second& s = roll(c, now_ms);
  s.requests += requests;
  s.tokens += tokens;
  c.day_requests += requests;
  c.day_tokens += tokens;
  c.month_requests += requests;
  c.month_tokens += tokens;
  if (c.pending.empty() || c.pending.back().day != c.day) {
    c.pending.push_back(DayCount{id, c.day, 0, 0});  // once per token and day after a flush
  }
  c.pending.back().requests += requests;
  c.pending.back().tokens += tokens;
}

TokenMeter::Verdict TokenMeter::admit_request(const TokenPolicy& policy, int64_t now_ms) {
  Counter& c = counter(policy.id);
  std::lock_guard lock(c.mu);
  roll(c, now_ms);
  if (policy.rpm > 0) {
    const int64_t sec = floor_div(now_ms, 1000);
    int64_t used = 0, oldest = sec;
    for (const Second& s : c.minute) {
      if (s.sec > sec - 60 && s.requests > 0) {
        used += s.requests;
        oldest = std::min(oldest, s.sec);
      }
    }
    if (used >= policy.rpm) {
      Verdict v;
      v.allowed = false;
      v.limit = "rpm";
      v.message = per_minute_message("rpm", policy.rpm, "requests");
      v.retry_after_ms = std::max<int64_t>(1, (oldest + 60) * 1000 - now_ms);
      return v;
    }
  }
  add(c, policy.id, now_ms, 1, 0);
  return {};
}

TokenMeter::Verdict TokenMeter::check_tokens(const TokenPolicy& policy, int64_t now_ms) const {
  if (policy.tpm <= 0 && policy.daily_tokens <= 0 && policy.monthly_tokens <= 0) return {};
  const Counter* c = find(policy.id);
  if (!c) return {};
  std::lock_guard lock(c->mu);
  const int64_t day = utc_day(now_ms);
  Verdict v;
  if (policy.tpm > 0) {
    const int64_t sec = floor_div(now_ms, 1000);
    std::array<Second, 60> live{};
    int64_t used = 0;
    size_t n = 0;
    for (const Second& s : c->minute) {
      if (s.sec > sec - 60 && s.tokens > 0) {
        used += s.tokens;
        live[n++] = s;
      }
    }
    if (used >= policy.tpm) {
      // The window frees once enough of its oldest seconds have left it.
      std::sort(live.begin(), live.begin() + static_cast<std::ptrdiff_t>(n),
                [](const Second& a, const Second& b) { return a.sec < b.sec; });
      int64_t frees_at = sec + 1;
      for (size_t i = 0; i < n && used >= policy.tpm; ++i) {
        used -= live[i].tokens;
        frees_at = live[i].sec + 60;
      }
      v.allowed = false;
      v.limit = "tpm";
      v.message = per_minute_message("tpm", policy.tpm, "tokens");
      v.retry_after_ms = std::max<int64_t>(1, frees_at * 1000 - now_ms);
      return v;
    }
  }
  const int64_t day_tokens = c->day == day ? c->day_tokens : 0;
  if (policy.daily_tokens > 0 && day_tokens >= policy.daily_tokens) {
    v.allowed = false;
    v.quota = true;
    v.limit = "daily_tokens";
    v.message = "daily_tokens quota of " + std::to_string(policy.daily_tokens) +
                " tokens per day (UTC) used up for this token";
    v.retry_after_ms = std::max<int64_t>(1, (day + 1) * kDayMs - now_ms);
    return v;
  }
  const int64_t month = utc_month_start(day);
  const int64_t month_tokens = c->month == month ? c->month_tokens : 0;
  if (policy.monthly_tokens > 0 && month_tokens >= policy.monthly_tokens) {
    v.allowed = false;
    v.quota = true;
    v.limit = "monthly_tokens";
    v.message = "monthly_tokens quota of " + std::to_string(policy.monthly_tokens) +
                " tokens per month (UTC) used up for this token";
    v.retry_after_ms = std::max<int64_t>(1, utc_next_month_start(day) * kDayMs - now_ms);
    return v;
  }
  return {};
}

void TokenMeter::charge_tokens(int64_t id, int64_t tokens, int64_t now_ms) {
  if (tokens <= 0) return;
  Counter& c = counter(id);
  std::lock_guard lock(c.mu);
  add(c, id, now_ms, 0, tokens);
}

TokenMeter::Usage TokenMeter::usage(int64_t id, int64_t now_ms) const {
  Usage u;
  const Counter* c = find(id);
  if (!c) return u;
  std::lock_guard lock(c->mu);
  const int64_t sec = floor_div(now_ms, 1000);
  for (const Second& s : c->minute) {
    if (s.sec > sec - 60) {
      u.minute_requests += s.requests;
      u.minute_tokens += s.tokens;
    }
  }
  const int64_t day = utc_day(now_ms);
  if (c->day == day) {
    u.day_requests = c->day_requests;
    u.day_tokens = c->day_tokens;
  }
  if (c->month == utc_month_start(day)) {
    u.month_requests = c->month_requests;
    u.month_tokens = c->month_tokens;
  }
  return u;
}

std::vector<TokenMeter::DayCount> TokenMeter::take_deltas() {
  std::vector<DayCount> out;
  std::shared_lock lock(mu_);
  for (auto& [id, c] : counters_) {
    std::lock_guard cl(c->mu);
    for (const DayCount& d : c->pending) {
      if (d.requests != 0 || d.tokens != 0) out.push_back(d);
    }
    c->pending.clear();
  }
  return out;
}

void TokenMeter::restore_deltas(const std::vector<DayCount>& deltas) {
  for (const DayCount& d : deltas) {
    Counter& c = counter(d.token_id);
    std::lock_guard lock(c.mu);
    auto it = std::find_if(c.pending.begin(), c.pending.end(),
                           [&](const DayCount& p) { return p.day == d.day; });
    if (it == c.pending.end()) {
      c.pending.insert(c.pending.begin(), d);  // older than what was counted since
    } else {
      it->requests += d.requests;
      it->tokens += d.tokens;
    }
  }
}

void TokenMeter::apply_stored(const std::vector<DayCount>& stored, int64_t now_ms) {
  const int64_t day = utc_day(now_ms);
  const int64_t month = utc_month_start(day);
  struct Totals {
    int64_t day_requests = 0, day_tokens = 0, month_requests = 0, month_tokens = 0;
  };
  std::unordered_map<int64_t, Totals> totals;
  for (const DayCount& r : stored) {
    if (r.day < month || r.day > day) continue;
    Totals& t = totals[r.token_id];
    t.month_requests += r.requests;
    t.month_tokens += r.tokens;
    if (r.day == day) {
      t.day_requests += r.requests;
      t.day_tokens += r.tokens;
    }
  }
  for (const auto& [id, t] : totals) counter(id);  // tokens seen only in storage get a counter
  std::shared_lock lock(mu_);
  for (auto& [id, c] : counters_) {
    std::lock_guard cl(c->mu);
    roll(*c, now_ms);
    auto it = totals.find(id);
    Totals t = it == totals.end() ? Totals{} : it->second;
    for (const DayCount& p : c->pending) {  // counted since the deltas were taken
      if (p.day < month || p.day > day) continue;
      t.month_requests += p.requests;
      t.month_tokens += p.tokens;
      if (p.day == day) {
        t.day_requests += p.requests;
        t.day_tokens += p.tokens;
      }
    }
    c->day_requests = t.day_requests;
    c->day_tokens = t.day_tokens;
    c->month_requests = t.month_requests;
    c->month_tokens = t.month_tokens;
  }
}

}  // namespace gemgate
