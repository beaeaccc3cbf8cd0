// PostgreSQL-only behaviour of PgStore and PgChangeFeed, against the real test server
// (tests/support/pg-server.sh; GEMGATE_TEST_POSTGRES names its url file): concurrent
// migrations, the master key check, passwords never printed, reconnects after a server restart,
// change notifications between stores, and the same statistics as SQLite for the same rows.
// The Store behaviour both backends share is tested by tests/unit/storage/*_test.cpp, which
// CTest runs against both (unit.storage and unit-pg.storage).
#include "storage/postgres/pg_store.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <doctest/doctest.h>
#include <mutex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "storage/open_store.h"
#include "storage/postgres/pg_change_feed.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_schema.h"
#include "storage/postgres/pg_util.h"
#include "tests/support/log_rows.h"
#include "tests/unit/storage/test_support.h"

namespace gemgate::storage {
namespace {

using namespace std::chrono_literals;
using testing::fake_key;
using testing::TempDir;

const std::string kKeyA(64, 'a');
const std::string kKeyB = std::string(63, 'a') + "b";

MasterKeyOptions env_key(const std::string& hex) {
  MasterKeyOptions o;
  o.env_value = hex;
  return o;
}

// A fresh, empty database of its own on the shared test server (not a schema of the shared
// one: NOTIFY channels are per database, and these tests count notifications); returns its URL.
std::string fresh_database(const TempDir& dir, const std::string& name = "db") {
  const std::string db = "pg_" + testing::postgres_schema_for(dir.file(name));
  auto admin = pg::Connection::open(testing::postgres_base_url() + "postgres");
  REQUIRE(admin.ok());
  REQUIRE((*admin)->exec_script("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)").ok());
  return testing::postgres_database_url(db);
}

std::string password_of(const std::string& url) {
  const auto colon = url.find(':', url.find("://") + 3);
  return url.substr(colon + 1, url.find('@') - colon - 1);
}

// Records what a feed reports.
struct Recorder {
  std::mutex mu;
  std::vector<ChangeTopic> seen;
  void operator()(ChangeTopic t) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(t);
  }
  int count(ChangeTopic t) {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(std::count(seen.begin(), seen.end(), t));
  }
  // Waits (polling, up to `limit`) until `t` has been seen `n` times.
  bool wait_for(ChangeTopic t, int n, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (count(t) >= n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return count(t) >= n;
  }
};

TEST_CASE("pg migrations: two processes migrating one empty database at once migrate it once") {
  TempDir dir;
  const std::string url = fresh_database(dir);
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // A step applied twice would fail (its CREATE TABLE exists): exit 0 only if it was not.
      auto store = PgStore::open(url, env_key(kKeyA));
      const bool ok =
          store.ok() && store.value()->schema_version().value() == pg::latest_schema_version();
      ::_exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  auto store = PgStore::open(url, env_key(kKeyA));
  REQUIRE(store.ok());
  CHECK(store.value()->schema_version().value() == pg::latest_schema_version());
  CHECK(store.value()->migrate().ok());  // again: a no-op
  CHECK(store.value()->check_integrity(true).ok());
}

TEST_CASE("pg migrations: the latest schema has no request-id index (v10 dropped it)") {
  TempDir dir;
  const std::string url = fresh_database(dir);
  auto store = PgStore::open(url, env_key(kKeyA));
  REQUIRE(store.ok());
  auto raw = pg::Connection::open(url);
  REQUIRE(raw.ok());
  auto n = (*raw)->exec(
      "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'request_log_by_request_id'", {});
  REQUIRE(n.ok());
  CHECK(n->i64(0, 0) == 0);
  auto others = (*raw)->exec(
      "SELECT COUNT(*) FROM pg_indexes WHERE indexname = "
      "'request_log_by_instance'",
      {});
  REQUIRE(others.ok());
  CHECK(others->i64(0, 0) == 1);  // the query finds indexes: the zero above means something
}

// The plan of request-log filter `f` as PostgreSQL's generic plan of a prepared statement (what
// a statement reused more than five times gets): the index it names, if any.
std::string pg_generic_plan(pg::Connection& db, const LogFilter& f) {
  const pg::Where where = pg::log_where(f, std::nullopt, true);
  std::string types;
  std::string values;
  for (std::size_t i = 0; i < where.args.size(); ++i) {
    const std::string& v = *where.args[i];
    const bool number = !v.empty() && v.find_first_not_of("-0123456789") == std::string::npos;
    types += (i ? ", " : "") + std::string(number ? "bigint" : "text");
    values += (i ? ", " : "") + ("'" + v + "'");
  }
  REQUIRE(db.exec_script("DEALLOCATE ALL").ok());
  REQUIRE(db.exec_script("PREPARE q (" + types + ") AS SELECT id FROM request_log" + where.sql +
                         " ORDER BY time_ms DESC, id DESC LIMIT 50")
              .ok());
  auto rows = db.exec("EXPLAIN EXECUTE q (" + values + ")", {});
  REQUIRE_MESSAGE(rows.ok(), rows.error().message);
  std::string plan;
  for (int i = 0; i < rows->size(); ++i) plan += rows->text(i, 0) + "\n";
  return plan;
}

TEST_CASE("pg request log (v12): filters excluding 200 and a named instance use their indexes") {
  TempDir dir;
  const std::string url = fresh_database(dir);
  auto store = PgStore::open(url, env_key(kKeyA));
  REQUIRE(store.ok());
  std::vector<RequestLogRow> rows = testing::random_log_rows(5000, 7, 10'000'000, 3'600'000, 3);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].route = "gemini";
    rows[i].method = "POST";
    rows[i].path = "/v1beta/x";
    rows[i].status = i % 50 ? 200 : 404;  // a gateway's mix: nearly all 200
    rows[i].instance_id = i % 100 ? "" : "gw-a";
  }
  REQUIRE((*store)->append_request_logs(rows).ok());
  auto raw = pg::Connection::open(url);
  REQUIRE(raw.ok());
  pg::Connection& db = **raw;
  REQUIRE(db.exec_script("ANALYZE request_log").ok());
  REQUIRE(db.exec_script("SET plan_cache_mode = force_generic_plan").ok());
  auto index_def =
      db.exec("SELECT indexdef FROM pg_indexes WHERE indexname = 'request_log_by_status'", {});
  REQUIRE(index_def.ok());
  REQUIRE(index_def->size() == 1);
  CHECK(index_def->text(0, 0).find("WHERE (status <> 200)") != std::string::npos);
  LogFilter s404;
  s404.status = 404;
  CHECK(pg_generic_plan(db, s404).find("request_log_by_status") != std::string::npos);
  LogFilter c4;
  c4.status_class = 4;
  CHECK(pg_generic_plan(db, c4).find("request_log_by_status") != std::string::npos);
  LogFilter inst;
  inst.instance_id = "gw-a";
  CHECK(pg_generic_plan(db, inst).find("request_log_by_instance") != std::string::npos);
  LogFilter s200;
  s200.status = 200;
  CHECK(pg_generic_plan(db, s200).find("request_log_by_status") == std::string::npos);
}

TEST_CASE("pg migrations: a newer schema and another program's tables are refused, untouched") {
  TempDir dir;
  const std::string url = fresh_database(dir);
  {
    auto store = PgStore::open(url, env_key(kKeyA));
    REQUIRE(store.ok());
  }
  auto raw = pg::Connection::open(url);
  REQUIRE(raw.ok());
  REQUIRE((*raw)->exec_script("UPDATE gemgate_schema SET version = 99").ok());
  auto newer = PgStore::open(url, env_key(kKeyA));
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().message.find("newer than this build") != std::string::npos);

  const std::string other = fresh_database(dir, "other");
  auto foreign = pg::Connection::open(other);
  REQUIRE(foreign.ok());
  REQUIRE((*foreign)->exec_script("CREATE TABLE invoices (id int)").ok());
  auto refused = PgStore::open(other, env_key(kKeyA));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("another program") != std::string::npos);
  auto tables = (*foreign)->exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
  REQUIRE(tables.ok());
  CHECK(tables->i64(0, 0) == 1);
}

TEST_CASE("pg master key: a wrong key changes nothing; no configured key is refused") {
  TempDir dir;
  const std::string url = fresh_database(dir);
  {
    auto store = PgStore::open(url, env_key(kKeyA));
    REQUIRE(store.ok());
    REQUIRE(store.value()->add_keys({fake_key(1)}, 1).ok());
  }
  auto wrong = PgStore::open(url, env_key(kKeyB));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("not the key") != std::string::npos);
  CHECK(wrong.error().message.find(kKeyB) == std::string::npos);
  auto none = PgStore::open(url, {});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("GEMGATE_MASTER_KEY") != std::string::npos);
  auto right = PgStore::open(url, env_key(kKeyA));
  REQUIRE(right.ok());
  auto keys = right.value()->load_keys().value();
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].secret == fake_key(1));
  // Sealed at rest: the clear key is nowhere in the table.
  auto raw = pg::Connection::open(url);
  auto clear = (*raw)->exec(
      "SELECT count(*) FROM keys WHERE position(convert_to($1, 'UTF8') IN sealed) > 0 OR "
      "fingerprint = $1",
      {pg::arg(fake_key(1))});
  REQUIRE(clear.ok());
  CHECK(clear->i64(0, 0) == 0);
}

TEST_CASE("pg errors: a wrong password, a dead server and a bad URL never print the password") {
  TempDir dir;
  const std::string url = fresh_database(dir);
  const std::string password = password_of(url);
  REQUIRE(password.size() >= 16);
  std::string wrong = url;
  wrong.replace(wrong.find(password), password.size(), "Wr0ngPassw0rdXyz");
  // A port nobody listens on: take a free one and close it again.
  const std::string dead = "postgresql://gemgate_test:" + password + "@127.0.0.1:1/x";
  const std::string keyvalue =
      "host=127.0.0.1 port=1 dbname=x user=u password=" + password + " connect_timeout=2";
  const std::string bad = "host=127.0.0.1 password=" + password + " bogus";
  for (const std::string& u : {wrong, dead, keyvalue, bad}) {
    auto store = open_store(u, env_key(kKeyA));
    REQUIRE_FALSE(store.ok());
    INFO(store.error().message);
    CHECK(store.error().message.find(password) == std::string::npos);
    CHECK(store.error().message.find("Wr0ngPassw0rdXyz") == std::string::npos);
    CHECK_FALSE(store.error().message.empty());
  }
  auto refused = open_store(wrong, env_key(kKeyA));
  CHECK(refused.error().message.find("password authentication failed") != std::string::npos);
  CHECK(open_store(dead, env_key(kKeyA)).error().code == ErrorCode::kUnavailable);
}

TEST_CASE("pg change feed: a change through one store reaches another's feed; kAll at start") {
  TempDir dir;
  const std::string url = fresh_database(dir);
  auto writer = PgStore::open(url, env_key(kKeyA));
  REQUIRE(writer.ok());
  Recorder seen;
  PgChangeFeed feed(url);
  REQUIRE(feed.start([&seen](ChangeTopic t) { seen(t); }).ok());
  REQUIRE(seen.wait_for(ChangeTopic::kAll, 1, 5s));  // listening
  Store& s = **writer;
  const auto id = s.add_keys({fake_key(1)}, 1).value().added_ids.at(0);
  CHECK(seen.wait_for(ChangeTopic::kKeys, 1, 1s));  // the bound: within 1 s
  KeyHealthRow h;
  h.key_id = id;
  h.cooldowns = {{"gemini-2.5-flash", 99, 1}};
  REQUIRE(s.save_key_health({h}).ok());
  CHECK(seen.wait_for(ChangeTopic::kKeyHealth, 1, 1s));
  NewClientToken t;
  t.token_sha256 = testing::fake_sha256(1);
  REQUIRE(s.add_token(t).ok());
  CHECK(seen.wait_for(ChangeTopic::kTokens, 1, 1s));
  SettingsBatch b;
  b.set["max_retries"] = "3";
  REQUIRE(s.save_settings(b).ok());
  CHECK(seen.wait_for(ChangeTopic::kSettings, 1, 1s));
  REQUIRE(s.create_session({testing::fake_sha256(2), 1, 99}).ok());
  REQUIRE(s.delete_all_sessions().ok());
  CHECK(seen.wait_for(ChangeTopic::kSessions, 2, 1s));
  // A failed write sends nothing: the notification is part of the rolled-back transaction.
  const int before = seen.count(ChangeTopic::kSettings);
  SettingsBatch bad;
  bad.set["a"] = "1";
  bad.set["b"] = "{not json";
  REQUIRE_FALSE(s.save_settings(bad).ok());
  REQUIRE(s.add_keys({fake_key(2)}, 2).ok());  // a later change, to know the feed caught up
  REQUIRE(seen.wait_for(ChangeTopic::kKeys, 2, 1s));
  CHECK(seen.count(ChangeTopic::kSettings) == before);
  feed.stop();
  feed.stop();  // idempotent
  CHECK(feed.connects() == 1);
}

// A private server (not the shared one: restarting that would disturb parallel tests).
class PrivateServer {
 public:
  PrivateServer() {
    const char* script = std::getenv("GEMGATE_PG_SERVER_SCRIPT");
    REQUIRE_MESSAGE(script != nullptr, "GEMGATE_PG_SERVER_SCRIPT is not set");
    script_ = script;
    run("start");
    std::ifstream in(dir_.file("url"));
    std::getline(in, base_);
    REQUIRE(!base_.empty());
  }
  ~PrivateServer() { run("stop"); }
  void run(const std::string& what) {
    const std::string cmd = "sh '" + script_ + "' " + what + " '" + dir_.path() + "' >/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  // Stops the server and starts it again on the same port with the same data.
  void restart() {
    const std::string cmd = "sh '" + script_ + "' restart '" + dir_.path() + "' >/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  std::string url() const { return base_ + "postgres"; }

 private:
  TempDir dir_;
  std::string script_;
  std::string base_;
};

TEST_CASE("pg reconnect: a server restart fails calls retriably, then the store and feed recover") {
  PrivateServer server;
  auto opened = PgStore::open(server.url(), env_key(kKeyA));
  REQUIRE(opened.ok());
  Store& s = **opened;
  REQUIRE(s.add_keys({fake_key(1)}, 1).ok());
  Recorder seen;
  PgChangeFeed feed(server.url());
  REQUIRE(feed.start([&seen](ChangeTopic t) { seen(t); }).ok());
  REQUIRE(seen.wait_for(ChangeTopic::kAll, 1, 5s));

  server.restart();
  // The first calls may fail (kUnavailable, retriable) while the store reconnects; a write
  // that failed left nothing behind, and one soon goes through.
  bool written = false;
  for (int i = 0; i < 100 && !written; ++i) {
    auto r = s.add_keys({fake_key(2)}, 2);
    if (r.ok()) {
      written = true;
    } else {
      CHECK(r.error().code == ErrorCode::kUnavailable);
      CHECK(r.error().retriable);
      std::this_thread::sleep_for(100ms);
    }
  }
  REQUIRE(written);
  CHECK(s.load_keys().value().size() == 2);
  // The feed came back on its own and said "re-read everything".
  CHECK(seen.wait_for(ChangeTopic::kAll, 2, 10s));
  CHECK(feed.connects() >= 2);
  REQUIRE(s.add_keys({fake_key(3)}, 3).ok());
  CHECK(seen.wait_for(ChangeTopic::kKeys, 1, 2s));
  feed.stop();
}

TEST_CASE("pg stats: the same rows give the same UsageStats as SQLite, window by window") {
  TempDir dir;
  auto pg_store = PgStore::open(fresh_database(dir), env_key(kKeyA));
  REQUIRE(pg_store.ok());
  auto sqlite_store = testing::open_sqlite(dir.file("gemgate.db"));
  const Millis now = 1'700'000'123'456;
  const auto rows = testing::random_log_rows(3000, 7, now, 3LL * 24 * 3'600'000, 12);
  for (std::size_t i = 0; i < rows.size(); i += 250) {
    const std::vector<RequestLogRow> batch(
        rows.begin() + static_cast<std::ptrdiff_t>(i),
        rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), i + 250)));
    REQUIRE(pg_store.value()->append_request_logs(batch).ok());
    REQUIRE(sqlite_store->append_request_logs(batch).ok());
  }
  auto same = [](const UsageTotals& a, const UsageTotals& b) {
    return a.requests == b.requests && a.failures == b.failures &&
           a.prompt_tokens == b.prompt_tokens && a.completion_tokens == b.completion_tokens &&
           a.total_tokens == b.total_tokens;
  };
  for (Millis window : {Millis{60'000}, Millis{3'600'000}, Millis{7'200'000}, Millis{86'400'000},
                        Millis{3 * 86'400'000LL}}) {
    INFO(window);
    const auto a = pg_store.value()->usage_stats({now, window, 60}).value();
    const auto b = sqlite_store->usage_stats({now, window, 60}).value();
    CHECK(a.from_ms == b.from_ms);
    CHECK(a.bucket_ms == b.bucket_ms);
    CHECK(same(a.totals, b.totals));
    REQUIRE(a.by_key.size() == b.by_key.size());
    for (std::size_t i = 0; i < a.by_key.size(); ++i) {
      CHECK(a.by_key[i].key_id == b.by_key[i].key_id);
      CHECK(same(a.by_key[i].usage, b.by_key[i].usage));
    }
    REQUIRE(a.by_model.size() == b.by_model.size());
    for (std::size_t i = 0; i < a.by_model.size(); ++i) {
      CHECK(a.by_model[i].model == b.by_model[i].model);
      CHECK(same(a.by_model[i].usage, b.by_model[i].usage));
    }
    REQUIRE(a.series.size() == b.series.size());
    for (std::size_t i = 0; i < a.series.size(); ++i) {
      CHECK(a.series[i].start_ms == b.series[i].start_ms);
      CHECK(same(a.series[i].usage, b.series[i].usage));
    }
  }
  const std::vector<std::int64_t> ids = {3, 1, 999, 2};
  const auto ka = pg_store.value()->key_usage(ids, now - 86'400'000, now).value();
  const auto kb = sqlite_store->key_usage(ids, now - 86'400'000, now).value();
  REQUIRE(ka.size() == kb.size());
  for (std::size_t i = 0; i < ka.size(); ++i) CHECK(same(ka[i].usage, kb[i].usage));
}

TEST_CASE("pg text: invalid UTF-8 and NUL bytes in log text are stored, not a failed batch") {
  TempDir dir;
  auto store = PgStore::open(fresh_database(dir), env_key(kKeyA));
  REQUIRE(store.ok());
  RequestLogRow r;
  r.time_ms = 5;
  r.status = 502;
  r.path = std::string("/v1beta/models/x\xff\xfe") + '\0' + "y";
  r.error = "upstream said \xc3\x28 oops";
  REQUIRE(store.value()->append_request_logs({r}).ok());
  auto page = store.value()->query_request_logs({}, {}).value();
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0].path == "/v1beta/models/x\xEF\xBF\xBD\xEF\xBF\xBDy");
}

}  // namespace
}  // namespace gemgate::storage
