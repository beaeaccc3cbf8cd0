// What a group of gateways sharing one database relies on: the SQLite change feed (PRAGMA
// data_version on its own connection, then the topics' versions) reports another connection's
// changes by topic and nothing for log batches and usage writes (sqlite-only; the
// PostgreSQL feed is tested in postgres/pg_store_test.cpp); on both stores save_key_health
// merges views of several writers by health_changed_at, load_key_health reads health only, and
// log rows keep their instance id and filter by it.
#include <SQLiteCpp/SQLiteCpp.h>
#include <condition_variable>
#include <doctest/doctest.h>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "storage/open_store.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_change_feed.h"
#include "test_support.h"

using namespace gemgate::storage;
using namespace gemgate::storage::testing;
using gemgate::now_unix_ms;

namespace {

// Records listener calls; wait_for_more() waits (generously) for more than `seen`.
struct Calls {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ChangeTopic> topics;
  ChangeFeed::Listener listener() {
    return [this](ChangeTopic topic) {
      std::lock_guard<std::mutex> lock(mu);
      topics.push_back(topic);
      cv.notify_all();
    };
  }
  int count() {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(topics.size());
  }
  // The topics reported after the first `from` calls.
  std::set<ChangeTopic> since(int from) {
    std::lock_guard<std::mutex> lock(mu);
    return {topics.begin() + std::min<std::size_t>(from, topics.size()), topics.end()};
  }
  bool wait_for_more(int seen) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(20),
                       [&] { return static_cast<int>(topics.size()) > seen; });
  }
};

const KeyHealthRow* find_row(const std::vector<KeyHealthRow>& rows, std::int64_t id) {
  for (const KeyHealthRow& r : rows) {
    if (r.key_id == id) return &r;
  }
  return nullptr;
}

constexpr Millis kFuture = 4'000'000'000'000;  // year 2096: cooldowns that have not ended

}  // namespace

TEST_CASE("change feed: another connection's commit is reported; stop() ends the calls" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  auto writer = open_sqlite(path);
  SqliteChangeFeed feed(path, std::chrono::milliseconds(20));
  Calls calls;
  REQUIRE(feed.start(calls.listener()).ok());
  CHECK_FALSE(feed.start(calls.listener()).ok());  // once
  REQUIRE(calls.wait_for_more(0));                 // the first look counts as a change
  int seen = calls.count();
  SettingsBatch batch;
  batch.set["max_retries"] = "2";
  batch.updated_at = 1;
  REQUIRE(writer->save_settings(batch).ok());
  CHECK(calls.wait_for_more(seen));
  feed.stop();
  seen = calls.count();
  batch.set["max_retries"] = "3";
  REQUIRE(writer->save_settings(batch).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(calls.count() == seen);
  feed.stop();  // idempotent
}

TEST_CASE("change feed: each change is reported by its topic; log and usage writes report none" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  auto writer = open_sqlite(path);
  SqliteChangeFeed feed(path, std::chrono::milliseconds(20));
  Calls calls;
  REQUIRE(feed.start(calls.listener()).ok());
  REQUIRE(calls.wait_for_more(0));  // the first look: kAll
  CHECK(calls.since(0) == std::set<ChangeTopic>{ChangeTopic::kAll});
  // Waits for the next report and returns every topic reported since `seen`.
  auto next = [&](int seen) {
    CHECK(calls.wait_for_more(seen));
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // a report of more, if any
    return calls.since(seen);
  };

  int seen = calls.count();
  const std::int64_t key = writer->add_keys({fake_key(1)}, 1).value().added_ids.at(0);
  CHECK(next(seen) == std::set<ChangeTopic>{ChangeTopic::kKeys});

  NewClientToken token;
  token.label = "t";
  token.token_sha256 = std::string(64, 'a');
  token.created_at = 1;
  seen = calls.count();
  const std::int64_t token_id = writer->add_token(token).value();
  CHECK(next(seen) == std::set<ChangeTopic>{ChangeTopic::kTokens});

  // What traffic writes: log batches, a token's last use, its usage, a key's usage columns and
  // breaker. None of it is a change any gateway re-reads; the feed stays quiet.
  seen = calls.count();
  for (int batch = 0; batch < 5; ++batch) {
    std::vector<RequestLogRow> rows(100);
    for (int i = 0; i < 100; ++i) {
      rows[i].time_ms = 1'000 + batch * 100 + i;
      rows[i].status = 200;
      rows[i].key_id = key;
      rows[i].token_id = token_id;
    }
    REQUIRE(writer->append_request_logs(rows).ok());
    REQUIRE(writer->touch_tokens({{token_id, 2'000 + batch}}).ok());
    REQUIRE(writer->add_token_usage({{token_id, 20'000, 100, 1'000}}).ok());
    // A key failing now and then: its failure count and its circuit breaker (local to each
    // gateway) change, its decision does not.
    KeyHealthRow used;
    used.key_id = key;
    used.last_used_at = 3'000 + batch;
    used.consecutive_failures = batch;
    used.last_error = "503 UNAVAILABLE";
    used.cooldowns = {{"circuit:gemini-2.5-flash", batch % 2 ? kFuture : 0, batch}};
    REQUIRE(writer->save_key_health({used}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // more than one poll apart
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(calls.since(seen).empty());

  // A health decision (disabled): the key-health topic alone (a re-read of health carries it).
  KeyHealthRow dead;
  dead.key_id = key;
  dead.disabled = true;
  dead.disabled_reason = "API_KEY_INVALID";
  dead.health_changed_at = 5'000;
  seen = calls.count();
  REQUIRE(writer->save_key_health({dead}).ok());
  CHECK(next(seen) == std::set<ChangeTopic>{ChangeTopic::kKeyHealth});

  // A cooldown alone.
  KeyHealthRow cooling = dead;
  cooling.cooldowns = {{"gemini-2.5-flash", kFuture, 1}};
  seen = calls.count();
  REQUIRE(writer->save_key_health({cooling}).ok());
  CHECK(next(seen) == std::set<ChangeTopic>{ChangeTopic::kKeyHealth});

  SettingsBatch settings;
  settings.set["max_retries"] = "2";
  settings.updated_at = 1;
  seen = calls.count();
  REQUIRE(writer->save_settings(settings).ok());
  CHECK(next(seen) == std::set<ChangeTopic>{ChangeTopic::kSettings});

  seen = calls.count();
  REQUIRE(writer->update_token(token_id, "renamed", token.policy).ok());
  CHECK(next(seen) == std::set<ChangeTopic>{ChangeTopic::kTokens});

  // Sessions are looked up per request (nothing caches them): a login or a purge reports none.
  seen = calls.count();
  REQUIRE(writer->create_session({std::string(64, 'b'), 1, kFuture}).ok());
  REQUIRE(writer->purge_expired_sessions(kFuture + 1).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(calls.since(seen).empty());
}

TEST_CASE(
    "change feed: a file another gateway is still migrating reports every commit, then "
    "topics once the versions exist" *
    doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  {
    // A v12 file: the schema before change_versions, as a gateway mid-migration leaves it.
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA journal_mode = WAL");
    for (const auto& step : gemgate::storage::sqlite::migrations()) {
      if (step.version > 12) break;
      raw.exec(step.sql);
    }
    raw.exec("PRAGMA application_id = " + std::to_string(gemgate::storage::sqlite::kApplicationId));
    raw.exec("PRAGMA user_version = 12");
  }
  SqliteChangeFeed feed(path, std::chrono::milliseconds(20));
  Calls calls;
  REQUIRE(feed.start(calls.listener()).ok());
  REQUIRE(calls.wait_for_more(0));  // the first look
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    const int seen = calls.count();
    raw.exec("INSERT INTO settings (name, value, updated_at) VALUES ('max_retries', '2', 1)");
    REQUIRE(calls.wait_for_more(seen));  // no versions to read: every commit counts as all
    CHECK(calls.since(seen) == std::set<ChangeTopic>{ChangeTopic::kAll});
  }
  // The migration finishes (v13 arrives): its commit reports all, then changes by topic.
  const int migrating = calls.count();
  auto writer = open_sqlite(path);
  REQUIRE(calls.wait_for_more(migrating));
  CHECK(calls.since(migrating) == std::set<ChangeTopic>{ChangeTopic::kAll});
  const int seen = calls.count();
  SettingsBatch batch;
  batch.set["max_retries"] = "3";
  batch.updated_at = 2;
  REQUIRE(writer->save_settings(batch).ok());
  REQUIRE(calls.wait_for_more(seen));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  CHECK(calls.since(seen) == std::set<ChangeTopic>{ChangeTopic::kSettings});
}

TEST_CASE("change feed: a database that does not exist yet is retried, not an error" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string path = dir.file("later.db");
  SqliteChangeFeed feed(path, std::chrono::milliseconds(20));
  Calls calls;
  REQUIRE(feed.start(calls.listener()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto store = open_sqlite(path);
  CHECK(calls.wait_for_more(0));
}

TEST_CASE("open_change_feed: a feed per database file or PostgreSQL server, none in memory") {
  TempDir dir;
  auto file = open_change_feed("file:" + dir.file("x.db"));
  REQUIRE(file.ok());
  CHECK(*file != nullptr);
  auto memory = open_change_feed(":memory:");
  REQUIRE(memory.ok());
  CHECK(*memory == nullptr);
  auto pg = open_change_feed("postgres://u:hunter2secret@h/db");
  REQUIRE(pg.ok());
  CHECK(*pg != nullptr);
  auto bad = open_change_feed("postgres://u:hunter2secret@h:notaport/db");
  if (!bad.ok()) CHECK(bad.error().message.find("hunter2secret") == std::string::npos);
}

TEST_CASE("save_key_health: the later decision wins; a stale view adds only its usage") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  const auto ids = store->add_keys({fake_key(1)}, 1).value().added_ids;
  // B found the key invalid at t=1000.
  KeyHealthRow b;
  b.key_id = ids[0];
  b.disabled = true;
  b.disabled_reason = "API_KEY_INVALID";
  b.health_changed_at = 1000;
  b.last_used_at = 500;
  REQUIRE(store->save_key_health({b}).ok());
  // A has not seen it yet: its view (decided at 0) must not enable the key again.
  KeyHealthRow a;
  a.key_id = ids[0];
  a.last_used_at = 900;
  a.consecutive_failures = 1;
  a.cooldowns = {{"m", kFuture, 1}};
  REQUIRE(store->save_key_health({a}).ok());
  auto rows = store->load_key_health().value();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].disabled);
  CHECK(rows[0].disabled_reason == "API_KEY_INVALID");
  CHECK(rows[0].health_changed_at == 1000);
  CHECK(rows[0].last_used_at == 900);
  CHECK(rows[0].consecutive_failures == 1);
  CHECK(rows[0].cooldowns.empty());  // a stale view's cooldowns may predate the decision

  // An admin enabling it later (through the store) is a newer decision.
  REQUIRE(store->set_keys_disabled(ids, false, "").value() == 1);
  rows = store->load_key_health().value();
  CHECK_FALSE(rows[0].disabled);
  CHECK(rows[0].health_changed_at > 1000);
  // ...so B's old view, written once more, changes nothing of the state.
  REQUIRE(store->save_key_health({b}).ok());
  CHECK_FALSE(store->load_key_health().value()[0].disabled);
  CHECK(store->load_keys().value()[0].health.health_changed_at == rows[0].health_changed_at);
}

TEST_CASE("save_key_health: views of the same decision merge cooldowns, the later end wins") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  const auto ids = store->add_keys({fake_key(1), fake_key(2)}, 1).value().added_ids;
  KeyHealthRow c;  // C learned a 429 on pro
  c.key_id = ids[0];
  c.cooldowns = {{"pro", kFuture + 30'000, 2}};
  REQUIRE(store->save_key_health({c}).ok());
  KeyHealthRow a;  // A learned one on flash, and an earlier end on pro
  a.key_id = ids[0];
  a.cooldowns = {{"flash", kFuture, 1}, {"pro", kFuture, 1}};
  REQUIRE(store->save_key_health({a}).ok());
  auto rows = store->load_key_health().value();
  const KeyHealthRow* r = find_row(rows, ids[0]);
  REQUIRE(r != nullptr);
  REQUIRE(r->cooldowns.size() == 2);
  CHECK(r->cooldowns[0].model == "flash");
  CHECK(r->cooldowns[1].model == "pro");
  CHECK(r->cooldowns[1].until_ms == kFuture + 30'000);
  CHECK(r->cooldowns[1].strikes == 2);
  REQUIRE(find_row(rows, ids[1]) != nullptr);
  CHECK(find_row(rows, ids[1])->cooldowns.empty());

  // A reset is a newer decision: the next view after it replaces the whole list.
  REQUIRE(store->reset_key_health({ids[0]}).value() == 1);
  CHECK(find_row(store->load_key_health().value(), ids[0])->cooldowns.empty());
  KeyHealthRow after = a;
  after.health_changed_at = now_unix_ms() + 60'000;
  after.cooldowns = {{"x", kFuture, 1}};
  REQUIRE(store->save_key_health({after}).ok());
  rows = store->load_key_health().value();
  REQUIRE(find_row(rows, ids[0])->cooldowns.size() == 1);
  CHECK(find_row(rows, ids[0])->cooldowns[0].model == "x");
}

TEST_CASE("logs: rows keep their instance id and filter by it") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  std::vector<RequestLogRow> rows(3);
  for (int i = 0; i < 3; ++i) {
    rows[i].time_ms = 1000 + i;
    rows[i].route = "gemini";
    rows[i].status = 200;
    rows[i].instance_id = i == 1 ? "gw-b" : "gw-a";
  }
  REQUIRE(store->append_request_logs(rows).ok());
  ErrorLogRow e;
  e.time_ms = 5;
  e.kind = "quota";
  e.instance_id = "gw-c";
  REQUIRE(store->append_error_logs({e}).ok());
  LogFilter f;
  f.instance_id = "gw-a";
  auto page = store->query_request_logs(f, {}).value();
  CHECK(page.total == 2);
  for (const auto& r : page.items) CHECK(r.instance_id == "gw-a");
  CHECK(store->query_request_logs({}, {}).value().total == 3);
  auto errors = store->query_error_logs({}, {}).value();
  REQUIRE(errors.items.size() == 1);
  CHECK(errors.items[0].instance_id == "gw-c");
}
