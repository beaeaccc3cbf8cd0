// Pool keys: adding with dedupe and validation, deleting, disabling, health persistence.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include "test_support.h"

namespace gemgate::storage {
namespace {

using testing::fake_key;
using testing::open_test_store;
using testing::TempDir;

const Key* find_key(const std::vector<Key>& keys, std::int64_t id) {
  for (const Key& k : keys) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

using testing::count_rows;

TEST_CASE("keys: add reports added ids, duplicates and rejected lines") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto first = store->add_keys({fake_key(1), fake_key(2)}, 1000);
  REQUIRE(first.ok());
  CHECK(first->added_ids.size() == 2);
  CHECK(first->duplicates == 0);

  const std::string secret_with_space = "AIza SECRETSECRET";
  auto second = store->add_keys({fake_key(2),                // already stored
                                 "  " + fake_key(3) + "\n",  // trimmed, then fine
                                 fake_key(3),                // repeated within the input
                                 "", secret_with_space, std::string(257, 'k'), fake_key(4)},
                                2000);
  REQUIRE(second.ok());
  CHECK(second->added_ids.size() == 2);
  CHECK(second->duplicates == 2);
  REQUIRE(second->rejected.size() == 3);
  CHECK(second->rejected[0].index == 3);
  CHECK(second->rejected[1].index == 4);
  CHECK(second->rejected[2].index == 5);
  for (const RejectedKey& r : second->rejected) {
    CHECK(r.reason.find("SECRET") == std::string::npos);  // the reason never repeats the key
  }
  CHECK(second->added_ids[0] > first->added_ids[1]);  // ids grow in input order
  CHECK(second->added_ids[0] < second->added_ids[1]);

  auto keys = store->load_keys();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 4);
  const Key* k3 = find_key(*keys, second->added_ids[0]);
  REQUIRE(k3 != nullptr);
  CHECK(k3->secret == fake_key(3));
  CHECK(k3->created_at == 2000);
  CHECK_FALSE(k3->health.disabled);
  CHECK(k3->health.consecutive_failures == 0);
  CHECK(k3->health.cooldowns.empty());
  CHECK(k3->health.key_id == k3->id);

  auto nothing = store->add_keys({}, 1);
  REQUIRE(nothing.ok());
  CHECK(nothing->added_ids.empty());
}

TEST_CASE("keys: delete by ids (cooldowns go too); ids are never reused") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  auto store = open_test_store(path);
  auto added = store->add_keys({fake_key(1), fake_key(2), fake_key(3)}, 1);
  REQUIRE(added.ok());
  const auto ids = added->added_ids;
  KeyHealthRow h;
  h.key_id = ids[0];
  h.cooldowns = {{"gemini-2.5-pro", 5000, 1}, {"gemini-2.5-flash", 6000, 2}};
  REQUIRE(store->save_key_health({h}).ok());
  CHECK(count_rows(path, "key_cooldowns") == 2);

  CHECK(store->delete_keys({ids[0], ids[2], 999999}).value() == 2);
  CHECK(count_rows(path, "key_cooldowns") == 0);
  auto keys = store->load_keys().value();
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].id == ids[1]);

  auto readded = store->add_keys({fake_key(3)}, 2).value();
  REQUIRE(readded.added_ids.size() == 1);
  CHECK(readded.added_ids[0] > ids[2]);
  CHECK(store->delete_keys({}).value() == 0);
}

TEST_CASE("keys: bulk operations over more ids than one statement takes") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  std::vector<std::string> secrets;
  for (int i = 0; i < 1200; ++i) secrets.push_back(fake_key(i));
  auto added = store->add_keys(secrets, 1).value();
  REQUIRE(added.added_ids.size() == 1200);
  CHECK(store->set_keys_disabled(added.added_ids, true, "bulk").value() == 1200);
  CHECK(store->reset_key_health(added.added_ids).value() == 1200);
  CHECK(store->delete_keys(added.added_ids).value() == 1200);
  CHECK(store->load_keys().value().empty());
}

TEST_CASE("keys: disable with a reason, enable clears it") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto ids = store->add_keys({fake_key(1), fake_key(2)}, 1).value().added_ids;
  CHECK(store->set_keys_disabled({ids[0], 424242}, true, "API_KEY_INVALID").value() == 1);
  auto keys = store->load_keys().value();
  CHECK(find_key(keys, ids[0])->health.disabled);
  CHECK(find_key(keys, ids[0])->health.disabled_reason == "API_KEY_INVALID");
  CHECK_FALSE(find_key(keys, ids[1])->health.disabled);

  CHECK(store->set_keys_disabled({ids[0]}, false, "ignored").value() == 1);
  keys = store->load_keys().value();
  CHECK_FALSE(find_key(keys, ids[0])->health.disabled);
  CHECK(find_key(keys, ids[0])->health.disabled_reason.empty());
}

TEST_CASE("keys: health is saved in bulk, replaces cooldowns, skips deleted keys") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto ids = store->add_keys({fake_key(1), fake_key(2)}, 1).value().added_ids;

  KeyHealthRow a;
  a.key_id = ids[0];
  a.consecutive_failures = 3;
  a.cooldowns = {{"gemini-2.5-pro", 90'000, 2}, {"gemini-2.5-flash", 60'000, 1}};
  a.last_used_at = 50'000;
  a.last_checked_at = 40'000;
  a.last_error = "429 RESOURCE_EXHAUSTED for key AIzaSyLEAKEDLEAKEDLEAKEDLEAKEDLEAKEDxx";
  KeyHealthRow gone;
  gone.key_id = 987654;  // deleted while queued: skipped, not an error
  gone.cooldowns = {{"gemini-2.5-pro", 1, 1}};
  KeyHealthRow b;
  b.key_id = ids[1];
  b.disabled = true;
  b.disabled_reason = "PERMISSION_DENIED";
  REQUIRE(store->save_key_health({a, gone, b}).ok());

  auto keys = store->load_keys().value();
  const KeyHealthRow& ha = find_key(keys, ids[0])->health;
  CHECK(ha.consecutive_failures == 3);
  CHECK(ha.last_used_at == 50'000);
  CHECK(ha.last_checked_at == 40'000);
  CHECK(ha.last_error.find("LEAKED") == std::string::npos);  // redacted at the store too
  CHECK(ha.last_error.find("429 RESOURCE_EXHAUSTED") != std::string::npos);
  REQUIRE(ha.cooldowns.size() == 2);
  CHECK(ha.cooldowns[0].model == "gemini-2.5-flash");  // ordered by model
  CHECK(ha.cooldowns[0].until_ms == 60'000);
  CHECK(ha.cooldowns[1].strikes == 2);
  CHECK(find_key(keys, ids[1])->health.disabled);
  CHECK(find_key(keys, ids[1])->health.disabled_reason == "PERMISSION_DENIED");

  a.cooldowns = {{"gemini-2.5-pro", 120'000, 3}};
  a.consecutive_failures = 0;
  REQUIRE(store->save_key_health({a}).ok());
  keys = store->load_keys().value();
  const KeyHealthRow& ha2 = find_key(keys, ids[0])->health;
  REQUIRE(ha2.cooldowns.size() == 1);
  CHECK(ha2.cooldowns[0].until_ms == 120'000);
  CHECK(ha2.cooldowns[0].strikes == 3);
  CHECK(ha2.consecutive_failures == 0);
}

TEST_CASE("keys: reset forgives failures, cooldowns and the disabled flag") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto ids = store->add_keys({fake_key(1), fake_key(2)}, 1).value().added_ids;
  KeyHealthRow h;
  h.key_id = ids[0];
  h.disabled = true;
  h.disabled_reason = "too many failures";
  h.consecutive_failures = 9;
  h.cooldowns = {{"gemini-2.5-pro", 99'999, 4}};
  h.last_error = "timeout";
  REQUIRE(store->save_key_health({h}).ok());
  CHECK(store->reset_key_health({ids[0], 5555}).value() == 1);
  const auto keys = store->load_keys().value();
  const KeyHealthRow& r = find_key(keys, ids[0])->health;
  CHECK_FALSE(r.disabled);
  CHECK(r.disabled_reason.empty());
  CHECK(r.consecutive_failures == 0);
  CHECK(r.cooldowns.empty());
  CHECK(r.last_error == "timeout");  // history is kept
}

TEST_CASE("keys: health and cooldowns survive close and reopen") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  std::int64_t id = 0;
  {
    auto store = open_test_store(path);
    id = store->add_keys({fake_key(1)}, 111).value().added_ids.at(0);
    KeyHealthRow h;
    h.key_id = id;
    h.consecutive_failures = 2;
    h.cooldowns = {{"gemini-2.5-flash", 1'700'000'000'000, 5}};
    h.last_used_at = 1'699'999'999'000;
    h.last_error = "503 UNAVAILABLE";
    REQUIRE(store->save_key_health({h}).ok());
  }
  auto store = open_test_store(path);
  auto keys = store->load_keys().value();
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].id == id);
  CHECK(keys[0].secret == fake_key(1));
  CHECK(keys[0].created_at == 111);
  CHECK(keys[0].health.consecutive_failures == 2);
  CHECK(keys[0].health.last_used_at == 1'699'999'999'000);
  CHECK(keys[0].health.last_error == "503 UNAVAILABLE");
  REQUIRE(keys[0].health.cooldowns.size() == 1);
  CHECK(keys[0].health.cooldowns[0].until_ms == 1'700'000'000'000);
  CHECK(keys[0].health.cooldowns[0].strikes == 5);
}

TEST_CASE("keys: policies are saved, survive reopen, and the proxy is sealed at rest") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  const std::string proxy = "socks5h://user:proxy-secret-5150@10.0.0.5:1080";
  std::int64_t a = 0, b = 0;
  {
    auto store = open_test_store(path);
    auto ids = store->add_keys({fake_key(1), fake_key(2)}, 1000).value().added_ids;
    a = ids.at(0);
    b = ids.at(1);
    // Defaults for a new key.
    auto fresh = store->load_keys().value();
    CHECK(find_key(fresh, a)->policy.weight == 1);
    CHECK(find_key(fresh, a)->policy.proxy.empty());
    KeyPolicyRow p{3, "paid", 60, 100000, proxy, "team A"};
    auto changed = store->set_key_policies({{a, p}, {99999, p}});
    REQUIRE(changed.ok());
    CHECK(*changed == 1);  // the unknown id is skipped
    // Out of range: refused whole, nothing written.
    KeyPolicyRow bad;
    bad.weight = 0;
    CHECK_FALSE(store->set_key_policies({{b, p}, {b, bad}}).ok());
    bad = KeyPolicyRow{};
    bad.note = std::string(501, 'n');
    CHECK_FALSE(store->set_key_policies({{b, bad}}).ok());
    bad = KeyPolicyRow{};
    bad.rpm = -1;
    CHECK_FALSE(store->set_key_policies({{b, bad}}).ok());
    CHECK(find_key(store->load_keys().value(), b)->policy.weight == 1);
  }
  CHECK(count_rows(path, "keys WHERE proxy_sealed IS NOT NULL") == 1);
  auto store = open_test_store(path);
  auto keys = store->load_keys().value();
  const Key* ka = find_key(keys, a);
  REQUIRE(ka);
  CHECK(ka->policy.weight == 3);
  CHECK(ka->policy.group == "paid");
  CHECK(ka->policy.rpm == 60);
  CHECK(ka->policy.tpm == 100000);
  CHECK(ka->policy.proxy == proxy);
  CHECK(ka->policy.note == "team A");
  // Clearing the proxy stores NULL.
  KeyPolicyRow cleared = ka->policy;
  cleared.proxy.clear();
  REQUIRE(store->set_key_policies({{a, cleared}}).ok());
  CHECK(find_key(store->load_keys().value(), a)->policy.proxy.empty());
}

TEST_CASE("keys: a proxy moved to another key's row does not open" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  std::int64_t a = 0, b = 0;
  {
    auto store = testing::open_sqlite(path);
    auto ids = store->add_keys({fake_key(1), fake_key(2)}, 1000).value().added_ids;
    a = ids.at(0);
    b = ids.at(1);
    KeyPolicyRow p;
    p.proxy = "http://u:pw-123456@proxy.test:3128";
    REQUIRE(store->set_key_policies({{a, p}}).ok());
  }
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("UPDATE keys SET proxy_sealed = (SELECT proxy_sealed FROM keys WHERE id = " +
             std::to_string(a) + ") WHERE id = " + std::to_string(b));
  }
  auto store = testing::open_sqlite(path);
  auto keys = store->load_keys().value();
  // The altered row is left out (its traffic must not go direct); the other key loads.
  CHECK(find_key(keys, a) != nullptr);
  CHECK(find_key(keys, b) == nullptr);
}

}  // namespace
}  // namespace gemgate::storage
