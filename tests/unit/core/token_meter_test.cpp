// TokenMeter: the per-token counters behind the token policy — the sliding minute (rpm exact:
// the sixth request within a minute is refused, and admitted again once the oldest leaves), tpm
// and daily/monthly quotas (the request that crosses a quota is the last one served), UTC
// day/month roll-over, and the write-behind deltas with the stored totals read back (restart,
// a group of gateways, a failed write put back).
#include "core/token_meter.h"

#include <doctest/doctest.h>

#include "core/text.h"

using namespace gemgate;

namespace {

constexpr int64_t kDay = 86'400'000;
// 2026-12-07 10:00:00 UTC
constexpr int64_t kT0 = 1'796'637'600'000;

TokenPolicy policy(int64_t id) {
  TokenPolicy p;
  p.id = id;
  return p;
}

}  // namespace

TEST_CASE("UTC days and months") {
  CHECK(utc_day(0) == 0);
  CHECK(utc_day(kDay - 1) == 0);
  CHECK(utc_day(-1) == -1);
  const int64_t day = utc_day(kT0);
  CHECK(day == 20'794);                        // 2026-12-07
  CHECK(utc_month_start(day) == 20'788);       // 2026-12-01
  CHECK(utc_next_month_start(day) == 20'819);  // 2027-01-01
  CHECK(utc_month_start(59) == 59);            // 1970-03-01 (after a 28-day February)
  CHECK(utc_next_month_start(58) == 59);       // 1970-02-28 → 1970-03-01
  CHECK(utc_next_month_start(utc_day(951'782'400'000)) == 11'017);  // 2000-02-29 → 2000-03-01
}

TEST_CASE("rpm: the sixth request within a minute is refused, with the wait until a slot frees") {
  TokenMeter m;
  TokenPolicy p = policy(1);
  p.rpm = 5;
  for (int i = 0; i < 5; ++i) CHECK(m.admit_request(p, kT0 + i * 1000).allowed);
  TokenMeter::Verdict v = m.admit_request(p, kT0 + 10'000);
  CHECK_FALSE(v.allowed);
  CHECK(v.limit == "rpm");
  CHECK_FALSE(v.quota);
  CHECK(v.message == "rpm limit of 5 requests per minute reached for this token");
  CHECK(v.retry_after_ms == 50'000);  // the first request leaves the window at kT0 + 60 s
  CHECK(m.usage(1, kT0 + 10'000).minute_requests == 5);  // a refused request is not counted
  CHECK_FALSE(m.admit_request(p, kT0 + 59'999).allowed);
  CHECK(m.admit_request(p, kT0 + 60'000).allowed);  // the first one left
  CHECK_FALSE(m.admit_request(p, kT0 + 60'500).allowed);
  // Another token has its own window; no rpm = no limit.
  TokenPolicy other = policy(2);
  for (int i = 0; i < 100; ++i) CHECK(m.admit_request(other, kT0).allowed);
  CHECK(m.usage(1, kT0 + 60'000).day_requests == 6);
}

TEST_CASE("tpm: refused once the tokens of the last minute reached it") {
  TokenMeter m;
  TokenPolicy p = policy(1);
  p.tpm = 100;
  CHECK(m.check_tokens(p, kT0).allowed);
  m.charge_tokens(1, 60, kT0);
  CHECK(m.check_tokens(p, kT0 + 1000).allowed);
  m.charge_tokens(1, 50, kT0 + 2000);  // crosses it: that request was served
  TokenMeter::Verdict v = m.check_tokens(p, kT0 + 3000);
  CHECK_FALSE(v.allowed);
  CHECK(v.limit == "tpm");
  CHECK(v.message == "tpm limit of 100 tokens per minute reached for this token");
  CHECK(v.retry_after_ms == 57'000);  // once the 60 of kT0 leave, 50 < 100
  CHECK(m.check_tokens(p, kT0 + 60'000).allowed);
}

TEST_CASE("daily and monthly quotas: the request that crosses one is the last served") {
  TokenMeter m;
  TokenPolicy p = policy(7);
  p.daily_tokens = 10;
  m.charge_tokens(7, 9, kT0);
  CHECK(m.check_tokens(p, kT0).allowed);
  m.charge_tokens(7, 5, kT0 + 1);
  TokenMeter::Verdict v = m.check_tokens(p, kT0 + 2);
  CHECK_FALSE(v.allowed);
  CHECK(v.quota);
  CHECK(v.limit == "daily_tokens");
  CHECK(v.retry_after_ms == 14 * 3'600'000 - 2);                // until midnight UTC
  CHECK(m.check_tokens(p, (utc_day(kT0) + 1) * kDay).allowed);  // a new UTC day

  TokenPolicy q = policy(8);
  q.monthly_tokens = 100;
  m.charge_tokens(8, 100, kT0);
  v = m.check_tokens(q, kT0 + 5 * kDay);
  CHECK_FALSE(v.allowed);
  CHECK(v.limit == "monthly_tokens");
  CHECK(m.check_tokens(q, utc_next_month_start(utc_day(kT0)) * kDay).allowed);
  TokenMeter::Usage u = m.usage(8, kT0 + kDay);
  CHECK(u.day_tokens == 0);
  CHECK(u.month_tokens == 100);
}

TEST_CASE("deltas go to storage once; stored totals come back with what was counted since") {
  TokenMeter m;
  TokenPolicy p = policy(3);
  m.admit_request(p, kT0);
  m.charge_tokens(3, 40, kT0);
  auto deltas = m.take_deltas();
  REQUIRE(deltas.size() == 1);
  CHECK(deltas[0].token_id == 3);
  CHECK(deltas[0].day == utc_day(kT0));
  CHECK(deltas[0].requests == 1);
  CHECK(deltas[0].tokens == 40);
  CHECK(m.take_deltas().empty());  // taken once

  m.charge_tokens(3, 2, kT0 + 1);  // counted while the write ran
  // The store now holds this instance's 40 plus another gateway's 100, and yesterday's 7.
  const int64_t day = utc_day(kT0);
  m.apply_stored({{3, day, 5, 140}, {3, day - 1, 1, 7}, {9, day, 2, 20}}, kT0 + 2);
  TokenMeter::Usage u = m.usage(3, kT0 + 2);
  CHECK(u.day_tokens == 142);
  CHECK(u.day_requests == 5);
  CHECK(u.month_tokens == 149);
  CHECK(m.usage(9, kT0 + 2).day_tokens == 20);  // known from storage only (a restart)

  // A failed write puts its deltas back: they go with the next one, nothing counted twice.
  auto again = m.take_deltas();
  REQUIRE(again.size() == 1);
  CHECK(again[0].tokens == 2);
  m.restore_deltas(again);
  m.charge_tokens(3, 1, kT0 + 3);
  auto merged = m.take_deltas();
  REQUIRE(merged.size() == 1);
  CHECK(merged[0].tokens == 3);
}

TEST_CASE("model patterns") {
  TokenPolicy p;
  CHECK(p.allows_model("anything"));
  p.models = {"gemini-2.5-flash", "gemini-*-lite"};
  CHECK(p.allows_model("gemini-2.5-flash"));
  CHECK(p.allows_model("gemini-2.0-flash-lite"));
  CHECK_FALSE(p.allows_model("gemini-2.5-pro"));
  CHECK_FALSE(p.allows_model("gemini-2.5-flash-x"));
  CHECK(text::glob_match("*", ""));
  CHECK_FALSE(text::glob_match("a*b", "ab-c"));
}

TEST_CASE("expiry") {
  TokenPolicy p;
  CHECK_FALSE(p.expired(kT0));
  p.expires_at_ms = kT0;
  CHECK_FALSE(p.expired(kT0 - 1));
  CHECK(p.expired(kT0));
}
