// KeyPool: selection (round-robin, skipping disabled/cooling/excluded keys, per-model cooldowns),
// how each outcome changes health, the Pick::Why answers, write-behind (take_dirty), replacing
// the key list, admin operations, and many threads picking and recording at once.
#include "pool/key_pool.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <map>
#include <thread>

#include "tests/unit/support/printers.h"

using namespace gemgate::pool;
using Why = KeyPool::Pick::Why;
namespace transport = gemgate::transport;

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

TEST_CASE("transient failures never disable: max_failures in a row open the key x model breaker") {
  auto pool = pool_of(3);
  PoolKey& key = *pool->find(1);
  PoolPolicy policy;
  policy.breaker_threshold = 3;
  pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, kNow);
  pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, kNow);
  CHECK(key.health().failures == 2);
  int64_t until = 0;
  CHECK(key.usable_for("m", kNow, &until));  // below the threshold the breaker stays closed
  pool->record(key, "m", outcome(OutcomeKind::kSuccess), policy, kNow);
  CHECK(key.health().failures == 0);
  CHECK(key.health().last_error.empty());
  CHECK(key.health().cooldowns.empty());  // a success forgets the strikes
  for (int i = 0; i < 3; ++i)
    pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, kNow);
  CHECK_FALSE(key.disabled());
  CHECK_FALSE(key.usable_for("m", kNow, &until));
  CHECK(until - kNow >= 500);  // 1 s with jitter in [0.5 s, 1 s]
  CHECK(until - kNow <= 1000);
  CHECK(key.usable_for("other-model", kNow, &until));  // per model
  // Half-open: after the open time one pick takes the trial, the next skips the key.
  int64_t later = kNow + 1001;
  int taken = 0;
  for (int i = 0; i < 6; ++i) taken += pool->pick("m", {}, later).key->id() == 1 ? 1 : 0;
  CHECK(taken == 1);
  // The trial fails: reopened for longer (2 s, jittered to [1 s, 2 s]).
  pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, later);
  CHECK_FALSE(key.usable_for("m", later + 999, &until));
  CHECK(until - later >= 1000);
  CHECK(until - later <= 2000);
  // The next trial succeeds: the breaker is closed (the entry gone).
  int64_t much_later = later + 2001;
  for (int i = 0; i < 3 && pool->pick("m", {}, much_later).key->id() != 1; ++i) {
  }
  pool->record(key, "m", outcome(OutcomeKind::kSuccess), policy, much_later);
  CHECK(key.health().cooldowns.empty());
  CHECK(key.usable_for("m", much_later, &until));
  // Many failures: still never disabled, and the open time is capped (60 s before jitter).
  for (int i = 0; i < 40; ++i)
    pool->record(key, "m", outcome(OutcomeKind::kTransient), policy, kNow);
  CHECK_FALSE(key.disabled());
  CHECK_FALSE(key.usable_for("m", kNow, &until));
  CHECK(until - kNow <= 60'000);
  policy.breaker_threshold = 0;  // 0 = no breaker
  auto other = pool_of(3);
  for (int i = 0; i < 50; ++i) {
    other->record(*other->find(1), "m", outcome(OutcomeKind::kTransient), policy, kNow);
  }
  CHECK_FALSE(other->find(1)->disabled());
  CHECK(other->find(1)->usable_for("m", kNow, &until));
}

TEST_CASE("breakers persist through the store's (model, until, strikes) rows") {
  Cooldown b{"gemini-2.5-flash", kNow + 5000, 4, kNow, true};
  CHECK(stored_cooldown_model(b) == "circuit:gemini-2.5-flash");
  Cooldown back = cooldown_from_stored(stored_cooldown_model(b), b.until_ms, b.strikes);
  CHECK(back.breaker);
  CHECK(back.model == "gemini-2.5-flash");
  CHECK(back.strikes == 4);
  Cooldown q = cooldown_from_stored("gemini-2.5-pro", kNow, 2);
  CHECK_FALSE(q.breaker);
  CHECK(stored_cooldown_model(q) == "gemini-2.5-pro");
}

TEST_CASE(
    "upstream outage: unreachable opens it at once; no key penalised; a good answer closes it") {
  auto pool = pool_of(3);
  Outcome down = classify_transport_failure(transport::FailureKind::kConnectFailed, "refused");
  CHECK(down.kind == OutcomeKind::kUnreachable);
  CHECK(pool->record(*pool->find(1), "m", down, PoolPolicy{}, kNow));
  CHECK(pool->find(1)->health().failures == 0);
  CHECK(pool->find(1)->health().cooldowns.empty());
  UpstreamHealth& up = pool->upstream();
  CHECK(up.any_outage());
  UpstreamHealth::Gate g = up.admit("m", kNow + 10);
  CHECK(g.verdict == UpstreamHealth::Gate::Verdict::kRefuse);
  CHECK(g.retry_after_ms >= 990);
  // Once the trial is due exactly one request takes it.
  CHECK(up.admit("m", kNow + 1000).verdict == UpstreamHealth::Gate::Verdict::kTrial);
  CHECK(up.admit("any", kNow + 1001).verdict == UpstreamHealth::Gate::Verdict::kRefuse);
  std::string scope;
  CHECK_FALSE(up.claim_probe(kNow + 1002, &scope));  // the trial holds the slot
  // The trial fails again: the next waits twice as long (capped at 4 s).
  pool->record(*pool->find(2), "m", down, PoolPolicy{}, kNow + 1100);
  CHECK(up.admit("m", kNow + 2000).verdict == UpstreamHealth::Gate::Verdict::kRefuse);
  CHECK(up.claim_probe(kNow + 3100, &scope));
  CHECK(scope.empty());  // the whole upstream
  pool->record(*pool->find(3), "m", outcome(OutcomeKind::kSuccess), PoolPolicy{}, kNow + 3200);
  CHECK_FALSE(up.any_outage());
  CHECK(up.admit("m", kNow + 3201).verdict == UpstreamHealth::Gate::Verdict::kServe);
}

TEST_CASE("upstream outage: the same transient failure on 3 distinct keys is the upstream's") {
  auto pool = pool_of(4);
  PoolPolicy policy;
  policy.breaker_threshold = 1;  // open a breaker at the first strike, to see it forgiven
  Outcome busy = outcome(OutcomeKind::kTransient);
  CHECK_FALSE(pool->record(*pool->find(1), "m", busy, policy, kNow));
  int64_t until = 0;
  CHECK_FALSE(pool->find(1)->usable_for("m", kNow, &until));  // key 1's breaker opened
  CHECK_FALSE(pool->record(*pool->find(2), "m", busy, policy, kNow + 1));
  CHECK(pool->record(*pool->find(3), "m", busy, policy, kNow + 2));  // third key: not the keys'
  for (int64_t id = 1; id <= 4; ++id) {
    CAPTURE(id);
    CHECK(pool->find(id)->usable_for("m", kNow + 3, &until));  // strikes since forgiven
    CHECK_FALSE(pool->find(id)->disabled());
  }
  // Suspected, not refused: it may be one request's doing. A failure meanwhile is answered as in
  // an outage at once; the probe (a harmless request of our own) is what confirms it.
  UpstreamHealth& up = pool->upstream();
  CHECK(up.suspected("m"));
  CHECK_FALSE(up.any_outage());
  CHECK(up.wants_probe());
  CHECK(up.admit("m", kNow + 3).verdict == UpstreamHealth::Gate::Verdict::kServe);
  CHECK(pool->record(*pool->find(4), "m", busy, policy, kNow + 4));
  std::string scope;
  REQUIRE(up.claim_probe(kNow + 5, &scope));
  CHECK(scope == "m");
  CHECK_FALSE(up.claim_probe(kNow + 6, &scope));  // one check at a time
  up.probe_failed("m", kNow + 10);
  CHECK(up.any_outage());
  CHECK_FALSE(up.suspected("m"));
  CHECK(up.admit("m", kNow + 11).verdict == UpstreamHealth::Gate::Verdict::kRefuse);
  CHECK(up.admit("other", kNow + 11).verdict == UpstreamHealth::Gate::Verdict::kServe);
  // Evidence older than the window does not add up.
  auto slow = pool_of(4);
  CHECK_FALSE(slow->record(*slow->find(1), "m", busy, policy, kNow));
  CHECK_FALSE(slow->record(*slow->find(2), "m", busy, policy, kNow + 1));
  CHECK_FALSE(slow->record(*slow->find(3), "m", busy, policy,
                           kNow + UpstreamHealth::kEvidenceWindowMs + 5));
  // A good answer in between clears the evidence.
  auto mixed = pool_of(4);
  CHECK_FALSE(mixed->record(*mixed->find(1), "m", busy, policy, kNow));
  CHECK_FALSE(mixed->record(*mixed->find(2), "m", busy, policy, kNow));
  mixed->record(*mixed->find(4), "m", outcome(OutcomeKind::kSuccess), policy, kNow);
  CHECK_FALSE(mixed->record(*mixed->find(3), "m", busy, policy, kNow));
}

TEST_CASE("a request every key fails (a poison input) never gets the model refused to others") {
  // A client that repeats a request Google fails on every key (a 500 for that input) makes the
  // model suspected each time; the others' requests are served throughout, each good answer
  // drops the suspicion, and so does the probe; no key is penalised.
  auto pool = pool_of(3);
  PoolPolicy policy;
  policy.breaker_threshold = 1;
  Outcome poison = outcome(OutcomeKind::kTransient);
  UpstreamHealth& up = pool->upstream();
  int64_t t = kNow;
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    CHECK_FALSE(pool->record(*pool->find(1), "m", poison, policy, t++));
    CHECK_FALSE(pool->record(*pool->find(2), "m", poison, policy, t++));
    CHECK(pool->record(*pool->find(3), "m", poison, policy, t++));  // answered as an outage
    CHECK(up.suspected("m"));
    CHECK(up.admit("m", t).verdict == UpstreamHealth::Gate::Verdict::kServe);
    if (round % 2 == 0) {
      // Another client's request is answered: the suspicion is gone.
      pool->record(*pool->find(1), "m", outcome(OutcomeKind::kSuccess), policy, t++);
    } else {
      // Nobody else asks: the probe's harmless request is answered.
      std::string scope;
      REQUIRE(up.claim_probe(t, &scope));
      CHECK(scope == "m");
      up.answered(scope);
    }
    CHECK_FALSE(up.suspected("m"));
    CHECK_FALSE(up.any_outage());
    for (int64_t id = 1; id <= 3; ++id) {
      CAPTURE(id);
      int64_t until = 0;
      CHECK(pool->find(id)->usable_for("m", t, &until));
    }
  }
  // A suspicion whose evidence ran out of its window needs new evidence; a late failure of a
  // trial that was never this check's confirms nothing.
  CHECK_FALSE(pool->record(*pool->find(1), "m", poison, policy, t));
  CHECK_FALSE(pool->record(*pool->find(2), "m", poison, policy, t));
  CHECK(pool->record(*pool->find(3), "m", poison, policy, t));
  up.probe_failed("m", t + 1);  // not claimed
  CHECK_FALSE(up.any_outage());
  t += UpstreamHealth::kEvidenceWindowMs + 1;
  CHECK_FALSE(pool->record(*pool->find(1), "m", poison, policy, t));
  CHECK_FALSE(up.suspected("m"));
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
  CHECK(tried->pick("m", std::vector<int64_t>{1, 2}, kNow).why == Why::kAllTried);
  tried->disable(2, "x");
  CHECK(tried->pick("m", std::vector<int64_t>{1}, kNow).why == Why::kAllTried);
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
  pool->disable(1, "x");
  REQUIRE(pool->find(1)->disabled());
  CHECK(pool->enable(1));
  CHECK_FALSE(pool->find(1)->disabled());
  CHECK(pool->find(1)->health().failures == 0);
  CHECK(pool->find(1)->health().cooldowns.size() == 1);  // enable keeps cooldowns
  CHECK(pool->reset(1));
  CHECK(pool->find(1)->health().cooldowns.empty());
  CHECK(pool->pick("m", std::vector<int64_t>{1}, kNow).key->id() == 2);
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
  never_disable.breaker_threshold = 0;
  constexpr int kThreads = 4, kRounds = 5000;
  std::vector<std::map<int64_t, int>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto p = pool->pick(i % 2 ? "a" : "b", {}, kNow);
        if (!p.key) continue;
        ++per_thread[t][p.key->id()];
        // One model per key: the same failure on many keys of one model would be an upstream
        // outage (not counted against any key), and this test counts per key.
        pool->record(*p.key, "m" + std::to_string(p.key->id()), outcome(OutcomeKind::kTransient),
                     never_disable, kNow);
        if (i % 100 == 0) (void)pool->take_dirty();
      }
    });
  }
  threads.emplace_back([&] {  // an admin replacing the list meanwhile (same ids and secrets)
    for (int i = 0; i < 200; ++i) {
      std::vector<std::pair<std::string, KeyHealth>> same;
      const auto key_list = pool->keys();  // held: a range-for over *temporary dangles
      for (const auto& k : *key_list) {
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
