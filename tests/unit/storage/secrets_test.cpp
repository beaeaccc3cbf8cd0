// Pool keys at rest (AES-256-GCM under a master key), deletion records, the request-log row
// cap and refused-request counts: the hardening items 5, 8 and 12 at the Store level.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

#include "storage/master_key.h"
#include "storage/secret_box.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sql_util.h"
#include "storage/storage_thread.h"
#include "test_support.h"

namespace gemgate::storage {
namespace {

using testing::fake_key;
using testing::fake_sha256;
using testing::open_sqlite;
using testing::TempDir;

const std::string kHexA(64, 'a');
const std::string kHexB = std::string(63, 'a') + "b";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every byte SQLite keeps for the database: the file, its WAL and shared memory.
std::string all_bytes(const std::string& db) {
  return slurp(db) + slurp(db + "-wal") + slurp(db + "-shm");
}

MasterKeyOptions env_key(const std::string& hex) {
  MasterKeyOptions o;
  o.env_value = hex;
  return o;
}

TEST_CASE("secret box: round trip, tamper detection, wrong aad, wrong master key") {
  SecretBox box(MasterKey::from_hex(kHexA).value());
  const std::string key = fake_key(1);
  const std::string blob = box.seal(key, "aad-1");
  CHECK(blob.find(key) == std::string::npos);
  CHECK(blob.size() == 1 + 12 + key.size() + 16);
  CHECK(box.open(blob, "aad-1").value() == key);
  CHECK(box.seal(key, "aad-1") != blob);  // a fresh nonce every time

  for (std::size_t i : {std::size_t{1}, std::size_t{13}, blob.size() - 1}) {  // nonce, ct, tag
    std::string bad = blob;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    CHECK_FALSE(box.open(bad, "aad-1").ok());
  }
  CHECK_FALSE(box.open(blob.substr(0, blob.size() - 1), "aad-1").ok());
  CHECK_FALSE(box.open(blob, "aad-2").ok());
  CHECK_FALSE(box.open("", "aad-1").ok());

  SecretBox other(MasterKey::from_hex(kHexB).value());
  auto wrong = other.open(blob, "aad-1");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find(kHexB) == std::string::npos);
  CHECK(other.check_value() != box.check_value());
  CHECK(box.fingerprint(key) == box.fingerprint(key));
  CHECK(box.fingerprint(key) != other.fingerprint(key));
  CHECK(box.fingerprint(key).size() == 64);
}

TEST_CASE("master key: hex parsing refuses bad input without repeating it") {
  CHECK(MasterKey::from_hex(" " + kHexA + "\n").ok());
  CHECK(MasterKey::from_hex(kHexA).value().to_hex() == kHexA);
  const std::string bad = std::string(63, 'a') + "z";
  auto r = MasterKey::from_hex(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(bad) == std::string::npos);
  CHECK_FALSE(MasterKey::from_hex("abcd").ok());
  CHECK(MasterKey::generate().to_hex() != MasterKey::generate().to_hex());
}

TEST_CASE("keys at rest: no key in the file or WAL; a restart with the key file reads them" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string db = dir.file("gemgate.db");
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back(fake_key(i));
  {
    auto store = open_sqlite(db);
    REQUIRE(store->add_keys(keys, 1).value().added_ids.size() == keys.size());
    const std::string bytes = all_bytes(db);
    for (const std::string& k : keys) CHECK(bytes.find(k) == std::string::npos);
    CHECK(store->add_keys({keys[3]}, 2).value().duplicates == 1);  // dedupe by fingerprint
  }
  struct stat st {};
  REQUIRE(::stat(dir.file("master.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto store = open_sqlite(db);
  auto loaded = store->load_keys().value();
  REQUIRE(loaded.size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK(loaded[i].secret == keys[i]);
}

TEST_CASE("key proxies at rest: neither the proxy URL nor its password is in the file or WAL" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string db = dir.file("gemgate.db");
  const std::string password = "proxy-password-at-rest-8086";
  const std::string proxy = "http://user:" + password + "@proxy.test:3128";
  auto store = open_sqlite(db);
  auto id = store->add_keys({fake_key(1)}, 1).value().added_ids.at(0);
  KeyPolicyRow p;
  p.proxy = proxy;
  REQUIRE(store->set_key_policies({{id, p}}).ok());
  const std::string bytes = all_bytes(db);
  CHECK(bytes.find(password) == std::string::npos);
  CHECK(bytes.find("proxy.test") == std::string::npos);
  CHECK(store->load_keys().value().at(0).policy.proxy == proxy);
}

TEST_CASE("keys at rest: a wrong or missing master key fails before anything changes" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string db = dir.file("gemgate.db");
  { REQUIRE(SqliteStore::open(db, env_key(kHexA)).value()->add_keys({fake_key(1)}, 1).ok()); }
  const std::string before = all_bytes(db);

  auto wrong = SqliteStore::open(db, env_key(kHexB));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("not the key") != std::string::npos);
  CHECK(wrong.error().message.find(kHexA) == std::string::npos);
  CHECK(wrong.error().message.find(kHexB) == std::string::npos);
  CHECK(all_bytes(db) == before);

  // The database has a check value, so a missing key file is not silently replaced.
  auto missing = SqliteStore::open(db);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("does not exist") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("master.key")));

  auto right = SqliteStore::open(db, env_key(kHexA));
  REQUIRE(right.ok());
  CHECK((*right)->load_keys().value().at(0).secret == fake_key(1));
}

TEST_CASE("migrations: a v1 database with clear keys is sealed, ids, health and cooldowns kept" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string db = dir.file("gemgate.db");
  {
    SQLite::Database raw(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA journal_mode = WAL");
    raw.exec(sqlite::migrations().at(0).sql);
    raw.exec("PRAGMA application_id = " + std::to_string(sqlite::kApplicationId));
    raw.exec("PRAGMA user_version = 1");
    for (int i = 1; i <= 4; ++i) {
      raw.exec("INSERT INTO keys (secret, created_at, disabled) VALUES ('" + fake_key(i) +
               "', 5, " + std::to_string(i == 2 ? 1 : 0) + ")");
    }
    raw.exec("DELETE FROM keys WHERE id = 4");  // the high-water mark must survive
    raw.exec("INSERT INTO key_cooldowns VALUES (3, 'gemini-2.5-pro', 99, 2)");
    REQUIRE(all_bytes(db).find(fake_key(1)) != std::string::npos);
  }
  auto store = open_sqlite(db);
  CHECK(store->schema_version().value() == sqlite::latest_schema_version());
  auto keys = store->load_keys().value();
  REQUIRE(keys.size() == 3);
  CHECK(keys[0].secret == fake_key(1));
  CHECK(keys[1].health.disabled);
  REQUIRE(keys[2].health.cooldowns.size() == 1);
  CHECK(keys[2].health.cooldowns[0].strikes == 2);
  CHECK(store->add_keys({fake_key(9)}, 6).value().added_ids.at(0) == 5);  // 4 is never reused
  const std::string bytes = all_bytes(db);
  for (int i = 1; i <= 4; ++i) CHECK(bytes.find(fake_key(i)) == std::string::npos);
}

TEST_CASE("deletion records: the environment does not re-add; the admin API does and lifts it") {
  auto store = testing::open_test_store(":memory:");
  const std::string k = fake_key(1);
  const auto id = store->add_keys({k}, 1).value().added_ids.at(0);
  REQUIRE(store->delete_keys({id}).value() == 1);
  auto env = store->add_keys({k, fake_key(2)}, 2, KeyOrigin::kEnvironment).value();
  CHECK(env.added_ids.size() == 1);
  REQUIRE(env.skipped_deleted.size() == 1);
  CHECK(env.skipped_deleted[0] == 0);
  CHECK(store->add_keys({k}, 3, KeyOrigin::kAdmin).value().added_ids.size() == 1);
  CHECK(store->add_keys({k}, 4, KeyOrigin::kEnvironment).value().duplicates == 1);

  NewClientToken t;
  t.token_sha256 = fake_sha256(1);
  const auto tid = store->add_token(t).value();
  CHECK_FALSE(store->token_was_deleted(t.token_sha256).value());
  REQUIRE(store->delete_token(tid).value());
  CHECK(store->token_was_deleted(t.token_sha256).value());
  CHECK(store->add_token(t).ok());
  CHECK_FALSE(store->token_was_deleted(t.token_sha256).value());
}

TEST_CASE("request log row cap: oldest rows go, in bounded chunks") {
  auto store = testing::open_test_store(":memory:");
  std::vector<RequestLogRow> rows(12'000);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].time_ms = 1'000 + static_cast<Millis>(i);
  REQUIRE(store->append_request_logs(rows).ok());
  CHECK(store->cap_request_logs(1'000, 1).value() == 5'000);  // one chunk per call at most
  CHECK(store->cap_request_logs(1'000, 100).value() == 6'000);
  CHECK(store->cap_request_logs(1'000, 100).value() == 0);
  auto page = store->query_request_logs({}, {1, 1}).value();
  CHECK(page.total == 1'000);
  CHECK(page.items.at(0).time_ms == 1'000 + 11'999);
  CHECK(store->cap_request_logs(0, 100).value() == 0);  // 0 = no cap
}

TEST_CASE("stats come from rollups only; refused requests are counted apart") {
  TempDir dir;
  auto store = testing::open_test_store(dir.file("gemgate.db"));
  const Millis now = 1'700'000'123'456;
  RequestLogRow r;
  r.time_ms = now - 30'000;
  r.status = 200;
  r.key_id = 1;
  r.total_tokens = 5;
  REQUIRE(store->append_request_logs({r, r, r}).ok());
  REQUIRE(store->delete_request_logs({}).ok());  // the log is gone; the ledger is not
  for (Millis window : {Millis{60'000}, Millis{3'600'000}, Millis{86'400'000}}) {
    auto s = store->usage_stats({now, window, 60}).value();
    CHECK(s.totals.requests == 3);
    REQUIRE(s.by_key.size() == 1);
    CHECK(s.by_key[0].usage.requests == 3);
  }
  REQUIRE(store->add_refused({{now - 10'000, 7}, {now - 5'000, 3}, {now - 7'200'000, 100}}).ok());
  CHECK(store->usage_stats({now, 60'000, 60}).value().refused == 10);
  CHECK(store->usage_stats({now, 86'400'000, 60}).value().refused == 110);
  CHECK(store->usage_stats({now, 60'000, 60}).value().totals.requests == 3);  // not in totals
}

TEST_CASE("storage thread: refused requests become per-minute counts, not log rows") {
  TempDir dir;
  const std::string db = dir.file("gemgate.db");
  const Millis now = 1'700'000'123'456;
  {
    StorageThread thread(testing::open_test_store(db));
    for (int i = 0; i < 5'000; ++i) thread.count_refused(now - 1'000);
    REQUIRE(thread.flush().ok());
    CHECK(thread.counters().refused_counted == 5'000);
    CHECK(thread.counters().rows_written == 0);
  }
  auto store = testing::open_test_store(db);
  CHECK(store->usage_stats({now, 60'000, 60}).value().refused == 5'000);
  CHECK(store->query_request_logs({}, {}).value().total == 0);
}

}  // namespace
}  // namespace gemgate::storage
