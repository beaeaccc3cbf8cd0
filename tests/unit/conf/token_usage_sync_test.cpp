// TokenUsageSync: the token meter's counted usage written behind to the store and read back —
// a restart (a new meter on the same store) resumes today's and this month's totals, and two
// gateways on one store each see the other's usage after a sync (the group's quota), without
// counting anything twice.
#include <doctest/doctest.h>

#include "conf/storage_sinks.h"
#include "core/clock.h"
#include "storage/open_store.h"

using namespace gemgate;
using namespace gemgate::conf;

namespace {

std::unique_ptr<storage::Store> memory_store() {
  auto store = storage::open_store(":memory:");
  INFO((store.ok() ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

int64_t add_token(storage::Store& store, int n) {
  storage::NewClientToken t;
  t.token_sha256 = std::string(63, '0') + std::to_string(n);
  t.created_at = 1;
  auto id = store.add_token(t);
  REQUIRE(id.ok());
  return *id;
}

}  // namespace

TEST_CASE("token usage survives a restart and is shared by the gateways of one store") {
  auto store = memory_store();
  const int64_t id = add_token(*store, 1);
  const int64_t now = now_unix_ms();
  TokenPolicy p;
  p.id = id;
  p.daily_tokens = 100;

  TokenMeter a, b;  // two gateways
  a.admit_request(p, now);
  a.charge_tokens(id, 60, now);
  REQUIRE(TokenUsageSync::run(a, *store, now).ok());
  REQUIRE(TokenUsageSync::run(b, *store, now).ok());
  CHECK(b.usage(id, now).day_tokens == 60);  // b sees a's usage
  CHECK(b.check_tokens(p, now).allowed);

  b.charge_tokens(id, 50, now);
  CHECK(a.check_tokens(p, now).allowed);  // not yet synced
  REQUIRE(TokenUsageSync::run(b, *store, now).ok());
  REQUIRE(TokenUsageSync::run(a, *store, now).ok());
  CHECK(a.usage(id, now).day_tokens == 110);
  CHECK(a.usage(id, now).day_requests == 1);
  CHECK_FALSE(a.check_tokens(p, now).allowed);  // the group crossed the quota
  // Syncing again adds nothing twice.
  REQUIRE(TokenUsageSync::run(a, *store, now).ok());
  REQUIRE(TokenUsageSync::run(b, *store, now).ok());
  CHECK(a.usage(id, now).day_tokens == 110);
  CHECK(b.usage(id, now).day_tokens == 110);

  TokenMeter restarted;
  REQUIRE(TokenUsageSync::run(restarted, *store, now).ok());
  TokenMeter::Usage u = restarted.usage(id, now);
  CHECK(u.day_tokens == 110);
  CHECK(u.month_tokens == 110);
  CHECK(u.day_requests == 1);
  CHECK(u.minute_tokens == 0);  // the minute windows are per process
}
