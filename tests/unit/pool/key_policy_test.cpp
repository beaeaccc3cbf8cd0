// KeyPool with key policies: smooth weighted round-robin (600 picks over weights 1/2/3 land on
// 100/200/300, evenly spread), groups, per-key rpm/tpm limits that skip a key without
// penalising it, live policy changes, and the health rules still holding under weights.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <map>
#include <thread>

#include "pool/key_pool.h"
#include "pool/key_schedule.h"
#include "pool/usage_window.h"
#include "tests/unit/support/printers.h"

using namespace gemgate::pool;
using Why = KeyPool::Pick::Why;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::string secret(int64_t id) {
  return "AIzaSyPOLICYKEY" + std::to_string(id) + "xxxxxxxxxxxxxxxxxxxxxx";
}

KeyPolicy policy(int weight, std::string group = "", int64_t rpm = 0, int64_t tpm = 0) {
  KeyPolicy p;
  p.weight = weight;
  p.group = std::move(group);
  p.rpm = rpm;
  p.tpm = tpm;
  return p;
}

// A pool whose key i+1 has policies[i].
std::shared_ptr<KeyPool> pool_with(const std::vector<KeyPolicy>& policies) {
  auto pool = std::make_shared<KeyPool>();
  std::vector<KeyPool::KeySeed> seeds;
  for (size_t i = 0; i < policies.size(); ++i) {
    KeyHealth h;
    h.id = static_cast<int64_t>(i + 1);
    seeds.push_back({secret(h.id), h, policies[i]});
  }
  pool->set_keys_and_policies(std::move(seeds));
  return pool;
}

std::vector<int64_t> picks(KeyPool& pool, int n, std::string_view group = {}, int64_t now = kNow) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    auto p = pool.pick("m", {}, now, group);
    out.push_back(p.key ? p.key->id() : -1);
  }
  return out;
}

std::map<int64_t, int> counts(const std::vector<int64_t>& ids) {
  std::map<int64_t, int> c;
  for (int64_t id : ids) ++c[id];
  return c;
}

// The longest run of the same id in a row.
std::map<int64_t, int> longest_runs(const std::vector<int64_t>& ids) {
  std::map<int64_t, int> runs;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    runs[ids[i]] = std::max(runs[ids[i]], static_cast<int>(j - i));
    i = j;
  }
  return runs;
}

Outcome quota() {
  Outcome o;
  o.kind = OutcomeKind::kQuota;
  o.status = 429;
  o.reason = "RESOURCE_EXHAUSTED";
  o.retry_delay_ms = 30'000;
  return o;
}

}  // namespace

TEST_CASE("weighted_order spreads each key's turns evenly over the cycle") {
  std::vector<uint32_t> order = weighted_order({0, 1, 2}, {1, 2, 3});
  REQUIRE(order.size() == 6);
  CHECK(std::count(order.begin(), order.end(), 0u) == 1);
  CHECK(std::count(order.begin(), order.end(), 1u) == 2);
  CHECK(std::count(order.begin(), order.end(), 2u) == 3);
  // Never two turns of the same key in a row here: 3 of 6 turns alternate with the others.
  for (size_t i = 0; i + 1 < order.size(); ++i) CHECK(order[i] != order[i + 1]);
  // Weights all 1: the plain round-robin order.
  CHECK(weighted_order({0, 1, 2}, {1, 1, 1}) == std::vector<uint32_t>{0, 1, 2});
  // A weight below 1 counts as 1.
  CHECK(weighted_order({0, 1}, {0, 1}).size() == 2);
}

TEST_CASE("600 picks over weights 1/2/3 give 100/200/300, evenly spread") {
  auto pool = pool_with({policy(1), policy(2), policy(3)});
  auto ids = picks(*pool, 600);
  auto c = counts(ids);
  // Exact here (one thread, no skips); the bar is within 5 %.
  CHECK(c[1] == 100);
  CHECK(c[2] == 200);
  CHECK(c[3] == 300);
  // No burst of the same key longer than its weight.
  auto runs = longest_runs(ids);
  CHECK(runs[1] <= 1);
  CHECK(runs[2] <= 2);
  CHECK(runs[3] <= 3);
  // Every window of one cycle (6 picks) holds each key by its weight.
  for (size_t i = 0; i + 6 <= ids.size(); i += 6) {
    auto w = counts({ids.begin() + i, ids.begin() + i + 6});
    CHECK(w[1] == 1);
    CHECK(w[3] == 3);
  }
}

TEST_CASE("weighted picks from many threads keep the shares within 5 %") {
  auto pool = pool_with({policy(1), policy(2), policy(3)});
  std::atomic<int> c1{0}, c2{0}, c3{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1500; ++i) {
        auto p = pool->pick("m", {}, kNow);
        (p.key->id() == 1 ? c1 : p.key->id() == 2 ? c2 : c3)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(c1.load() == doctest::Approx(1000).epsilon(0.05));
  CHECK(c2.load() == doctest::Approx(2000).epsilon(0.05));
  CHECK(c3.load() == doctest::Approx(3000).epsilon(0.05));
}

TEST_CASE("a weighted pool keeps every health rule: cooling, disabled and excluded keys") {
  auto pool = pool_with({policy(1), policy(1), policy(5)});
  // The heavy key cools down after a quota error: the others share the traffic meanwhile.
  pool->record(*pool->find(3), "m", quota(), PoolPolicy{}, kNow);
  auto c = counts(picks(*pool, 100));
  CHECK(c[3] == 0);
  CHECK(c[1] == 50);
  CHECK(c[2] == 50);
  // Disabled: out.
  pool->disable(1, "test");
  c = counts(picks(*pool, 10));
  CHECK(c[1] == 0);
  CHECK(c[2] == 10);
  // Excluded by the retry: the next usable one, else kAllTried.
  auto p = pool->pick("m", std::vector<int64_t>{2}, kNow);
  CHECK_FALSE(p.key);
  CHECK(p.why == Why::kAllCooling);  // key 3 cools, key 1 disabled, key 2 tried
  pool->disable(3, "test");
  CHECK(pool->pick("m", std::vector<int64_t>{2}, kNow).why == Why::kAllTried);
  // Back after the cooldown, with its full weight.
  pool->enable(1);
  pool->enable(3);
  c = counts(picks(*pool, 70, {}, kNow + 60'000));
  CHECK(c[3] == 50);
  CHECK(c[1] == 10);
}

TEST_CASE("a skipped turn does not hand a double share to the next key") {
  auto pool = pool_with({policy(2), policy(1), policy(1)});
  pool->disable(2, "test");
  auto c = counts(picks(*pool, 300));
  CHECK(c[1] == 200);
  CHECK(c[3] == 100);
}

TEST_CASE("a key group restricts the pick to its keys; no group may use every key") {
  auto pool = pool_with({policy(1, "paid"), policy(3, "paid"), policy(1), policy(1, "free")});
  auto c = counts(picks(*pool, 400, "paid"));
  CHECK(c.size() == 2);
  CHECK(c[1] == 100);
  CHECK(c[2] == 300);
  CHECK(counts(picks(*pool, 10, "free"))[4] == 10);
  // Without a group: every key, grouped or not, by weight.
  c = counts(picks(*pool, 600));
  CHECK(c[1] == 100);
  CHECK(c[2] == 300);
  CHECK(c[3] == 100);
  CHECK(c[4] == 100);
  // A group no key has: kNoKeys (the filter names the group).
  auto p = pool->pick("m", {}, kNow, "missing");
  CHECK_FALSE(p.key);
  CHECK(p.why == Why::kNoKeys);
  // Every key of the group disabled: kAllDisabled, though other keys are fine.
  pool->disable(4, "test");
  CHECK(pool->pick("m", {}, kNow, "free").why == Why::kAllDisabled);
}

TEST_CASE("a key at its own rpm is skipped, not penalised, and comes back after the minute") {
  auto pool = pool_with({policy(1, "", 2), policy(1)});
  auto c = counts(picks(*pool, 6));
  CHECK(c[1] == 2);
  CHECK(c[2] == 4);
  KeyHealth h = pool->find(1)->health();
  CHECK(h.cooldowns.empty());  // no cooldown, no strike
  CHECK(h.failures == 0);
  CHECK(pool->find(1)->last_minute(kNow).requests == 2);
  // 61 s later the window is empty again.
  c = counts(picks(*pool, 4, {}, kNow + 61'000));
  CHECK(c[1] == 2);
}

TEST_CASE("every key at its limit: kAllBusy with the wait until a slot frees") {
  auto pool = pool_with({policy(1, "", 1), policy(1, "", 1)});
  CHECK(picks(*pool, 2) == std::vector<int64_t>{1, 2});
  auto p = pool->pick("m", {}, kNow + 10'000);
  CHECK_FALSE(p.key);
  CHECK(p.why == Why::kAllBusy);
  CHECK(p.retry_after_ms == 50'000);  // the picks at kNow leave the window at kNow + 60 s
  CHECK(pool->pick("m", {}, kNow + 60'000).key);
}

TEST_CASE("tpm counts the tokens charged from answers") {
  auto pool = pool_with({policy(1, "", 0, 1000), policy(1)});
  auto key1 = pool->pick("m", {}, kNow).key;
  REQUIRE(key1->id() == 1);
  key1->charge_tokens(1000, kNow);
  auto c = counts(picks(*pool, 4, {}, kNow + 1));
  CHECK(c[1] == 0);
  CHECK(c[2] == 4);
  CHECK(key1->last_minute(kNow + 1).tokens == 1000);
  CHECK(counts(picks(*pool, 2, {}, kNow + 60'000))[1] == 1);
}

TEST_CASE("rpm holds exactly with many threads picking at once") {
  auto pool = pool_with({policy(1, "", 50), policy(1)});
  std::atomic<int> first{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (pool->pick("m", {}, kNow).key->id() == 1) ++first;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(first.load() == 50);
}

TEST_CASE("policies change live and survive a re-read of the key list") {
  auto pool = pool_with({policy(1), policy(1)});
  CHECK(pool->set_policy(2, policy(3, "", 0, 0)));
  CHECK_FALSE(pool->set_policy(99, policy(1)));
  auto c = counts(picks(*pool, 400));
  CHECK(c[1] == 100);
  CHECK(c[2] == 300);
  // Health stays across a policy change and a re-read; the old set_keys keeps policies.
  pool->disable(1, "test");
  std::vector<std::pair<std::string, KeyHealth>> keys;
  for (int64_t id : {1, 2}) {
    KeyHealth h;
    h.id = id;
    keys.emplace_back(secret(id), h);
  }
  pool->set_keys(std::move(keys));
  CHECK(pool->find(1)->disabled());
  CHECK(pool->find(2)->policy()->weight == 3);
  // A re-read with seeds takes the stored policy.
  std::vector<KeyPool::KeySeed> seeds;
  for (int64_t id : {1, 2}) {
    KeyHealth h;
    h.id = id;
    seeds.push_back({secret(id), h, policy(1, "g")});
  }
  pool->set_keys_and_policies(std::move(seeds));
  CHECK(pool->find(2)->policy()->group == "g");
  CHECK(pool->find(1)->disabled());
  CHECK(counts(picks(*pool, 4, "g"))[2] == 4);
  // A key added with a policy joins its group's rotation.
  KeyHealth h;
  h.id = 3;
  pool->add_key(secret(3), h, policy(1, "g"));
  CHECK(counts(picks(*pool, 4, "g"))[3] == 2);
  pool->remove_key(3);
  CHECK(counts(picks(*pool, 4, "g"))[3] == 0);
}

TEST_CASE("UsageWindow counts one-second buckets over a sliding minute") {
  UsageWindow w;
  CHECK(w.try_take(kNow, 0, 0) == 0);
  CHECK(w.try_take(kNow + 30'000, 2, 0) == 0);
  CHECK(w.try_take(kNow + 30'500, 2, 0) == 29'500);
  w.add_tokens(kNow + 31'000, 7);
  CHECK(w.last_minute(kNow + 31'000).requests == 2);
  CHECK(w.last_minute(kNow + 31'000).tokens == 7);
  CHECK(w.last_minute(kNow + 60'000).requests == 1);
  CHECK(w.last_minute(kNow + 200'000).requests == 0);
  CHECK(w.try_take(kNow + 60'000, 2, 0) == 0);
}

// Not an assertion (no timing in tests): with GEMGATE_POOL_BENCH set, prints what a pick costs
// with plain weights, with weights and groups, and with a per-key rpm window.
TEST_CASE("pick cost (printed with GEMGATE_POOL_BENCH)") {
  if (!std::getenv("GEMGATE_POOL_BENCH")) return;
  auto run = [](const char* name, const std::vector<KeyPolicy>& policies, const char* group) {
    auto pool = pool_with(policies);
    constexpr int kPicks = 2'000'000;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kPicks; ++i) pool->pick("m", {}, kNow + i / 1000, group);
    double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
        kPicks;
    std::printf("pick, %s: %.1f ns\n", name, ns);
  };
  std::vector<KeyPolicy> plain(20, policy(1)), weighted, limited(20, policy(1, "", 1'000'000'000));
  for (int i = 0; i < 20; ++i) weighted.push_back(policy(1 + i % 5, i % 2 ? "paid" : ""));
  run("20 keys, weight 1", plain, "");
  run("20 keys, weights 1..5", weighted, "");
  run("20 keys, group of 10", weighted, "paid");
  run("20 keys, each with rpm", limited, "");
}
