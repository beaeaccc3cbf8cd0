// KeyPool: selection (round-robin, skipping disabled/cooling/excluded keys, per-model cooldowns),
// how each outcome changes health, the Pick::Why answers, write-behind (take_dirty), replacing
// the key list, admin operations, and many threads picking and recording at once.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "filters/keys/key_pool.h"
#include "tests/unit/support/printers.h"

using namespace gemgate::keys;
using Why = KeyPool::Pick::Why;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::string secret(int64_t id) {
  return "AIzaSyTESTKEY" + std::to_string(id) + "xxxxxxxxxxxxxxxxxxxxxxxx";
}

// A pool with keys 1..n, all healthy.
std::shared_ptr<KeyPool> pool_of(int n) {
  auto pool = std::make_shared<KeyPool>();
  std::vector<std::pair<std::string, KeyHealth>> keys;
  for (int64_t id = 1; id <= n; ++id) {
    KeyHealth h;
    h.id = id;
    keys.emplace_back(secret(id), h);
  }
  pool->set_keys(std::move(keys));
  return pool;
}

Outcome outcome(OutcomeKind kind, int64_t retry_delay_ms = -1) {
  Outcome o;
  o.kind = kind;
  o.status = kind == OutcomeKind::kQuota ? 429 : kind == OutcomeKind::kKeyInvalid ? 400 : 500;
  o.reason = kind == OutcomeKind::kKeyInvalid ? "API_KEY_INVALID" : "UNAVAILABLE";
  o.retry_delay_ms = retry_delay_ms;
  return o;
}

std::vector<int64_t> picks(KeyPool& pool, int n, std::string_view model = "m",
                           const std::vector<int64_t>& exclude = {}) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    auto p = pool.pick(model, exclude, kNow);
    out.push_back(p.key ? p.key->id() : -1);
  }
  return out;
}

int64_t cooldown_until(const KeyPool& pool, int64_t id, const std::string& model) {
  for (const Cooldown& c : pool.find(id)->health().cooldowns) {
    if (c.model == model) return c.until_ms;
  }
  return 0;
}

}  // namespace

TEST_CASE("round-robin over healthy keys, in order") {
  auto pool = pool_of(3);
  CHECK(picks(*pool, 6) == std::vector<int64_t>{1, 2, 3, 1, 2, 3});
}

TEST_CASE("disabled and excluded keys are skipped without doubling the next key's share") {
  auto pool = pool_of(5);
  REQUIRE(pool->disable(2, "test"));
  std::vector<int64_t> got = picks(*pool, 8);
  std::map<int64_t, int> share;
  for (int64_t id : got) ++share[id];
  CHECK(share.count(2) == 0);
  // Four healthy keys, eight picks: each serves twice.
  CHECK(share == std::map<int64_t, int>{{1, 2}, {3, 2}, {4, 2}, {5, 2}});
  for (int64_t id : picks(*pool, 8, "m", {1, 3})) {
    CHECK((id == 4 || id == 5));
  }
}

TEST_CASE("a key cooling for model A still serves model B; '*' blocks every model") {
  auto pool = pool_of(2);
  PoolPolicy policy;
  pool->record(*pool->find(1), "model-a", outcome(OutcomeKind::kQuota), policy, kNow);
  for (int64_t id : picks(*pool, 4, "model-a")) CHECK(id == 2);
  std::vector<int64_t> b = picks(*pool, 4, "model-b");
  CHECK(std::count(b.begin(), b.end(), 1) == 2);
  pool->record(*pool->find(2), "", outcome(OutcomeKind::kQuota), policy, kNow);  // no model: "*"
  for (int64_t id : picks(*pool, 4, "model-b")) CHECK(id == 1);
  auto p = pool->pick("model-a", {}, kNow);
  CHECK(p.key == nullptr);
  CHECK(p.why == Why::kAllCooling);
}

TEST_CASE("RetryInfo's delay sets the cooldown; it ends on time") {
  auto pool = pool_of(1);
  pool->record(*pool->find(1), "m", outcome(OutcomeKind::kQuota, 37'000), PoolPolicy{}, kNow);
  CHECK(cooldown_until(*pool, 1, "m") == kNow + 37'000);
  auto p = pool->pick("m", {}, kNow + 36'999);
  CHECK(p.why == Why::kAllCooling);
  CHECK(p.retry_after_ms == 1);
  CHECK(pool->pick("m", {}, kNow + 37'000).key != nullptr);
  // A tiny RetryInfo still cools for at least a second.
  pool->record(*pool->find(1), "n", outcome(OutcomeKind::kQuota, 10), PoolPolicy{}, kNow);
  CHECK(cooldown_until(*pool, 1, "n") == kNow + 1'000);
}

TEST_CASE("default cooldown doubles per strike within a day, capped; a quiet day resets it") {
  auto pool = pool_of(1);
  PoolKey& key = *pool->find(1);
  PoolPolicy policy;
  policy.cooldown_default_ms = 60'000;
  policy.cooldown_max_ms = 300'000;
  std::vector<int64_t> lengths;
  int64_t t = kNow;
  for (int i = 0; i < 5; ++i) {
    pool->record(key, "m", outcome(OutcomeKind::kQuota), policy, t);
    lengths.push_back(cooldown_until(*pool, 1, "m") - t);
    t += 1'000;
  }
  CHECK(lengths == std::vector<int64_t>{60'000, 120'000, 240'000, 300'000, 300'000});
  t += 25LL * 3600 * 1000;
  pool->record(key, "m", outcome(OutcomeKind::kQuota), policy, t);
  CHECK(cooldown_until(*pool, 1, "m") - t == 60'000);
}

TEST_CASE("an invalid key is disabled at once, with a reason") {
  auto pool = pool_of(2);
  pool->record(*pool->find(1), "m", outcome(OutcomeKind::kKeyInvalid), PoolPolicy{}, kNow);
  KeyHealth h = pool->find(1)->health();
  CHECK(h.disabled);
  CHECK(h.reason == "API_KEY_INVALID (HTTP 400)");
  CHECK(pool->find(1)->disabled());
  for (int64_t id : picks(*pool, 3)) CHECK(id == 2);
}

TEST_CASE("max_failures consecutive transient failures disable; a success resets the count") {
  auto pool = pool_of(1);
  PoolKey& key = *pool->find(1);
  PoolPolicy policy;
  policy.max_failures = 3;
  pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, kNow);
  pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, kNow);
  CHECK(key.health().failures == 2);
  pool->record(key, "m", outcome(OutcomeKind::kSuccess), policy, kNow);
  CHECK(key.health().failures == 0);
  CHECK(key.health().last_error.empty());
  for (int i = 0; i < 2; ++i)
    pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, kNow);
  CHECK_FALSE(key.disabled());
  pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, kNow);
  CHECK(key.disabled());
  CHECK(key.health().reason.find("3 consecutive failures") == 0);
  policy.max_failures = 0;  // 0 = never disable
  auto other = pool_of(1);
  for (int i = 0; i < 50; ++i) {
    other->record(*other->find(1), "m", outcome(OutcomeKind::kTransient), policy, kNow);
  }
  CHECK_FALSE(other->find(1)->disabled());
}

TEST_CASE("a client error changes nothing about the key") {
  auto pool = pool_of(1);
  (void)pool->take_dirty();
  Outcome client;
  client.kind = OutcomeKind::kClientError;
  client.status = 400;
  pool->record(*pool->find(1), "m", client, PoolPolicy{}, kNow);
  KeyHealth h = pool->find(1)->health();
  CHECK_FALSE(h.disabled);
  CHECK(h.failures == 0);
  CHECK(h.cooldowns.empty());
  CHECK(h.last_error.empty());
  CHECK(pool->take_dirty().empty());
}

TEST_CASE("a success lifts that model's cooldown") {
  auto pool = pool_of(1);
  pool->record(*pool->find(1), "m", outcome(OutcomeKind::kQuota), PoolPolicy{}, kNow);
  pool->record(*pool->find(1), "m", outcome(OutcomeKind::kSuccess), PoolPolicy{}, kNow);
  CHECK(pool->find(1)->health().cooldowns.empty());
  CHECK(pool->pick("m", {}, kNow).key != nullptr);
}

TEST_CASE("Pick::Why: no keys, all disabled, all cooling (with retry_after), all tried") {
  KeyPool empty;
  CHECK(empty.pick("m", {}, kNow).why == Why::kNoKeys);

  auto disabled = pool_of(2);
  disabled->disable(1, "x");
  disabled->disable(2, "y");
  CHECK(disabled->pick("m", {}, kNow).why == Why::kAllDisabled);

  auto cooling = pool_of(3);
  cooling->disable(3, "x");
  cooling->record(*cooling->find(1), "m", outcome(OutcomeKind::kQuota, 50'000), PoolPolicy{}, kNow);
  cooling->record(*cooling->find(2), "m", outcome(OutcomeKind::kQuota, 20'000), PoolPolicy{}, kNow);
  auto p = cooling->pick("m", {}, kNow + 5'000);
  CHECK(p.why == Why::kAllCooling);
  CHECK(p.retry_after_ms == 15'000);  // the earliest cooldown end

  auto tried = pool_of(2);
  CHECK(tried->pick("m", {1, 2}, kNow).why == Why::kAllTried);
  tried->disable(2, "x");
  CHECK(tried->pick("m", {1}, kNow).why == Why::kAllTried);
}

TEST_CASE("wait_for_model_ms: 0 when a key can serve, -1 when none ever will, else the wait") {
  KeyPool empty;
  CHECK(empty.wait_for_model_ms("m", kNow) == -1);
  auto pool = pool_of(2);
  CHECK(pool->wait_for_model_ms("m", kNow) == 0);
  pool->record(*pool->find(1), "m", outcome(OutcomeKind::kQuota, 30'000), PoolPolicy{}, kNow);
  pool->disable(2, "x");
  CHECK(pool->wait_for_model_ms("m", kNow) == 30'000);
  CHECK(pool->wait_for_model_ms("other", kNow) == 0);
  pool->disable(1, "x");
  CHECK(pool->wait_for_model_ms("m", kNow) == -1);
}

TEST_CASE("take_dirty returns each changed key once") {
  auto pool = pool_of(3);
  (void)pool->take_dirty();
  pool->record(*pool->find(2), "m", outcome(OutcomeKind::kTransient), PoolPolicy{}, kNow);
  pool->disable(3, "x");
  std::vector<KeyHealth> dirty = pool->take_dirty();
  REQUIRE(dirty.size() == 2);
  CHECK(dirty[0].id == 2);
  CHECK(dirty[0].failures == 1);
  CHECK(dirty[1].id == 3);
  CHECK(dirty[1].disabled);
  CHECK(pool->take_dirty().empty());
  auto p = pool->pick("m", {}, kNow);  // a pick records the last use
  REQUIRE(p.key);
  dirty = pool->take_dirty();
  REQUIRE(dirty.size() == 1);
  CHECK(dirty[0].last_used_ms == kNow);
}

TEST_CASE("set_keys keeps the live health of surviving keys and drops removed ones") {
  auto pool = pool_of(3);
  pool->record(*pool->find(1), "m", outcome(OutcomeKind::kTransient), PoolPolicy{}, kNow);
  pool->disable(2, "bad");
  KeyHealth fresh1, fresh2, fresh4;
  fresh1.id = 1;
  fresh2.id = 2;
  fresh4.id = 4;
  fresh4.disabled = true;
  fresh4.reason = "stored";
  pool->set_keys({{secret(1), fresh1},
                  {"AIzaRotatedSecret-xxxxxxxxxxxxxxxxxxxxx", fresh2},
                  {secret(4), fresh4}});
  CHECK(pool->size() == 3);
  CHECK(pool->find(1)->health().failures == 1);  // same id and secret: live health kept
  CHECK_FALSE(pool->find(2)->disabled());        // new secret under the id: starts fresh
  CHECK(pool->find(3) == nullptr);
  CHECK(pool->find(4)->disabled());
  CHECK(pool->find(4)->health().reason == "stored");
  CHECK(pool->contains_secret(secret(1)));
  CHECK_FALSE(pool->contains_secret(secret(3)));
}

TEST_CASE("admin operations: enable, disable, reset, mark_checked, add and remove") {
  auto pool = pool_of(2);
  pool->record(*pool->find(1), "m", outcome(OutcomeKind::kQuota), PoolPolicy{}, kNow);
  for (int i = 0; i < 3; ++i) {
    pool->record(*pool->find(1), "m", outcome(OutcomeKind::kTransient), PoolPolicy{}, kNow);
  }
  REQUIRE(pool->find(1)->disabled());
  CHECK(pool->enable(1));
  CHECK_FALSE(pool->find(1)->disabled());
  CHECK(pool->find(1)->health().failures == 0);
  CHECK(pool->find(1)->health().cooldowns.size() == 1);  // enable keeps cooldowns
  CHECK(pool->reset(1));
  CHECK(pool->find(1)->health().cooldowns.empty());
  CHECK(pool->pick("m", {1}, kNow).key->id() == 2);
  CHECK(pool->mark_checked(2, kNow, "probe failed"));
  CHECK(pool->find(2)->health().last_checked_ms == kNow);
  CHECK(pool->find(2)->health().last_error == "probe failed");
  CHECK_FALSE(pool->enable(99));
  CHECK_FALSE(pool->disable(99, ""));
  CHECK_FALSE(pool->reset(99));
  CHECK_FALSE(pool->mark_checked(99, kNow, ""));
  KeyHealth h;
  h.id = 7;
  pool->add_key(secret(7), h);
  pool->add_key("AIzaOther", h);  // same id: ignored
  CHECK(pool->size() == 3);
  CHECK(pool->find(7)->secret() == secret(7));
  CHECK(pool->remove_key(7));
  CHECK_FALSE(pool->remove_key(7));
  CHECK(pool->size() == 2);
}

TEST_CASE("many threads picking and recording at once: no crash, counts add up") {
  auto pool = pool_of(8);
  PoolPolicy never_disable;
  never_disable.max_failures = 0;
  constexpr int kThreads = 4, kRounds = 5000;
  std::vector<std::map<int64_t, int>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto p = pool->pick(i % 2 ? "a" : "b", {}, kNow);
        if (!p.key) continue;
        ++per_thread[t][p.key->id()];
        pool->record(*p.key, "a", outcome(OutcomeKind::kTransient), never_disable, kNow);
        if (i % 100 == 0) (void)pool->take_dirty();
      }
    });
  }
  threads.emplace_back([&] {  // an admin replacing the list meanwhile (same ids and secrets)
    for (int i = 0; i < 200; ++i) {
      std::vector<std::pair<std::string, KeyHealth>> same;
      for (const auto& k : *pool->keys()) {
        KeyHealth h;
        h.id = k->id();
        same.emplace_back(k->secret(), h);
      }
      pool->set_keys(std::move(same));
    }
  });
  for (auto& th : threads) th.join();
  int total = 0;
  for (int64_t id = 1; id <= 8; ++id) {
    int picked = 0;
    for (const auto& m : per_thread) picked += m.count(id) ? m.at(id) : 0;
    CHECK(pool->find(id)->health().failures == picked);
    total += picked;
  }
  CHECK(total == kThreads * kRounds);
}
