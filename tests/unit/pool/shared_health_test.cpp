// KeyPool::merge_shared_health: what another gateway of a group wrote merges into the live pool
// without undoing what this one learned — the later decision sets disabled, cooldowns merge per
// model (later end wins), breakers stay local, nothing is marked dirty.
#include <doctest/doctest.h>

#include "pool/key_pool.h"

using namespace gemgate::pool;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::shared_ptr<KeyPool> pool_of(int n) {
  auto pool = std::make_shared<KeyPool>();
  std::vector<std::pair<std::string, KeyHealth>> keys;
  for (int64_t id = 1; id <= n; ++id) {
    KeyHealth h;
    h.id = id;
    keys.emplace_back("AIzaSyGROUPKEY" + std::to_string(id) + "xxxxxxxxxxxxxxxxxxxxxxx", h);
  }
  pool->set_keys(std::move(keys));
  pool->take_dirty();
  return pool;
}

KeyHealth theirs(int64_t id) {
  KeyHealth h;
  h.id = id;
  return h;
}

Cooldown quota(std::string model, int64_t until, int strikes = 1) {
  Cooldown c;
  c.model = std::move(model);
  c.until_ms = until;
  c.strikes = strikes;
  c.last_strike_ms = until;
  return c;
}

}  // namespace

TEST_CASE("shared health: a key disabled elsewhere is not picked here, and nothing turns dirty") {
  auto pool = pool_of(2);
  KeyHealth h = theirs(2);
  h.disabled = true;
  h.reason = "API_KEY_INVALID";
  h.changed_ms = kNow - 10;
  CHECK(pool->merge_shared_health({h}, kNow) == 1);
  CHECK(pool->find(2)->disabled());
  CHECK(pool->find(2)->health().reason == "API_KEY_INVALID");
  CHECK(pool->find(2)->health().changed_ms == kNow - 10);  // their decision, not "now"
  for (int i = 0; i < 4; ++i) CHECK(pool->pick("m", {}, kNow).key->id() == 1);
  pool->take_dirty();                                // the picks above
  CHECK(pool->merge_shared_health({h}, kNow) == 0);  // idempotent
  CHECK(pool->take_dirty().empty());
}

TEST_CASE("shared health: a later local decision is kept; a later remote one wins") {
  auto pool = pool_of(1);
  REQUIRE(pool->enable(1));  // an admin here, now
  const int64_t ours = pool->find(1)->health().changed_ms;
  REQUIRE(ours > 0);
  KeyHealth stale = theirs(1);
  stale.disabled = true;
  stale.reason = "API_KEY_INVALID";
  stale.changed_ms = ours - 1000;  // decided before our enable
  pool->merge_shared_health({stale}, kNow);
  CHECK_FALSE(pool->find(1)->disabled());

  KeyHealth later = stale;
  later.changed_ms = ours + 1000;
  pool->merge_shared_health({later}, kNow);
  CHECK(pool->find(1)->disabled());

  KeyHealth enabled = theirs(1);  // an admin elsewhere enables it afterwards
  enabled.changed_ms = ours + 2000;
  pool->merge_shared_health({enabled}, kNow);
  CHECK_FALSE(pool->find(1)->disabled());
}

TEST_CASE("shared health: cooldowns merge per model, the later end wins, breakers stay local") {
  auto pool = pool_of(2);
  KeyHealth h = theirs(1);
  h.cooldowns = {quota("gemini-2.5-pro", kNow + 30'000, 2), quota("old", kNow - 5)};
  Cooldown breaker = quota("gemini-2.5-pro", kNow + 60'000);
  breaker.breaker = true;
  h.cooldowns.push_back(breaker);
  CHECK(pool->merge_shared_health({h}, kNow) == 1);
  int64_t until = 0;
  CHECK_FALSE(pool->find(1)->usable_for("gemini-2.5-pro", kNow, &until));
  CHECK(until == kNow + 30'000);  // the quota cooldown, not their breaker
  CHECK(pool->find(1)->usable_for("gemini-2.5-flash", kNow, &until));
  const KeyHealth merged = pool->find(1)->health();
  CHECK(merged.cooldowns.size() == 1);  // the ended one and the breaker stay out
  CHECK(merged.cooldowns[0].strikes == 2);
  CHECK(pool->pick("gemini-2.5-pro", {}, kNow).key->id() == 2);

  // An earlier end elsewhere does not shorten ours.
  h.cooldowns = {quota("gemini-2.5-pro", kNow + 1'000)};
  CHECK(pool->merge_shared_health({h}, kNow) == 0);
  CHECK_FALSE(pool->find(1)->usable_for("gemini-2.5-pro", kNow + 2'000, &until));
}

TEST_CASE("shared health: a reset elsewhere clears our older cooldowns; unknown ids are ignored") {
  auto pool = pool_of(1);
  KeyHealth cooling = theirs(1);
  cooling.cooldowns = {quota("m", kNow + 30'000)};
  pool->merge_shared_health({cooling}, kNow);
  int64_t until = 0;
  REQUIRE_FALSE(pool->find(1)->usable_for("m", kNow, &until));
  KeyHealth reset = theirs(1);
  reset.changed_ms = kNow + 40'000;  // after the strike that started the cooldown
  pool->merge_shared_health({reset, theirs(77)}, kNow);
  CHECK(pool->find(1)->usable_for("m", kNow, &until));
}
