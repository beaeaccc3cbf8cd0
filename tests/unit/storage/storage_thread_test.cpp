// StorageThread: FIFO jobs from many threads, write-behind batching, flush() and stop()
// semantics, coalescing, the queue cap, and retry after a transient (busy) failure (its
// scheduling standing: thread_standing_test.cpp).
#include "storage/storage_thread.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <atomic>
#include <doctest/doctest.h>
#include <future>
#include <thread>

#include "test_support.h"

namespace gemgate::storage {
namespace {

using namespace std::chrono_literals;
using testing::fake_key;
using testing::open_test_store;
using testing::TempDir;

RequestLogRow row(Millis t, const std::string& model = "gemini-2.5-flash") {
  RequestLogRow r;
  r.time_ms = t;
  r.model = model;
  r.status = 200;
  r.key_id = 1;
  return r;
}

// Runs `fn` on the storage thread and waits for its result.
template <class T>
T on_thread(StorageThread& st, std::function<T(Store&)> fn) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  REQUIRE(st.submit([p, fn](Store& s) { p->set_value(fn(s)); }));
  return f.get();
}

std::int64_t count_logs(StorageThread& st) {
  return on_thread<std::int64_t>(
      st, [](Store& s) { return s.query_request_logs({}, {}).value().total; });
}

// Waits up to 5 s for `pred`.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

StorageThread::Options slow_timer() {
  StorageThread::Options o;
  o.flush_interval = 1h;  // only size, jobs, flush() and stop() trigger writes
  return o;
}

TEST_CASE("storage thread: appended rows are visible after flush()") {
  TempDir dir;
  StorageThread st(open_test_store(dir.file("gemgate.db")), slow_timer());
  for (int i = 0; i < 10; ++i) st.append_request_log(row(1000 + i));
  ErrorLogRow e;
  e.time_ms = 5;
  e.kind = "quota";
  st.append_error_log(e);
  REQUIRE(st.flush().ok());
  CHECK(st.counters().rows_written == 11);
  // A second connection sees committed rows.
  CHECK(testing::count_rows(dir.file("gemgate.db"), "request_log") == 10);
  CHECK(testing::count_rows(dir.file("gemgate.db"), "error_log") == 1);
}

TEST_CASE("storage thread: written rows come back as spare rows to fill, never before") {
  TempDir dir;
  StorageThread st(open_test_store(dir.file("gemgate.db")), slow_timer());
  CHECK(st.spare_request_row().time_ms == 0);  // nothing written yet: a new row
  for (int i = 0; i < 3; ++i) st.append_request_log(row(1000 + i));
  REQUIRE(st.flush().ok());
  // The written rows, with what they held (the caller assigns every field).
  for (int i = 0; i < 3; ++i) CHECK(st.spare_request_row().time_ms >= 1000);
  CHECK(st.spare_request_row().time_ms == 0);  // all taken: new rows again
  // Rows filled from spares are stored as filled.
  RequestLogRow r = st.spare_request_row();
  r = row(5000, "gemini-2.5-pro");
  st.append_request_log(std::move(r));
  REQUIRE(st.flush().ok());
  bool found = false;
  REQUIRE(st.submit([&](Store& s) {
    auto page = s.query_request_logs({}, {}).value();
    found = page.total == 4 && page.items[0].model == "gemini-2.5-pro";
  }));
  REQUIRE(st.flush().ok());
  CHECK(found);
}

TEST_CASE("storage thread: a job sees every row appended before it was submitted") {
  TempDir dir;
  StorageThread st(open_test_store(dir.file("gemgate.db")), slow_timer());
  st.append_request_log(row(1));
  st.append_request_log(row(2));
  CHECK(count_logs(st) == 2);
}

TEST_CASE("storage thread: stop() writes everything queued, then closes the database") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  std::int64_t key_id = 0;
  {
    auto store = open_test_store(path);
    key_id = store->add_keys({fake_key(1)}, 1).value().added_ids.at(0);
    StorageThread st(std::move(store), slow_timer());
    for (int i = 0; i < 1234; ++i) st.append_request_log(row(i));
    KeyHealthRow h;
    h.key_id = key_id;
    h.consecutive_failures = 4;
    st.update_key_health(h);
    st.stop();
    CHECK_FALSE(st.submit([](Store&) {}));
    st.append_request_log(row(99999));  // after stop: dropped and counted
    CHECK(st.counters().rows_dropped == 1);
    CHECK(st.counters().rows_written == 1234);
  }
  auto store = open_test_store(path);
  CHECK(store->query_request_logs({}, {}).value().total == 1234);
  CHECK(store->load_keys().value().at(0).health.consecutive_failures == 4);
}

TEST_CASE("storage thread: the destructor also flushes") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  {
    StorageThread st(open_test_store(path), slow_timer());
    for (int i = 0; i < 7; ++i) st.append_request_log(row(i));
  }
  CHECK(open_test_store(path)->query_request_logs({}, {}).value().total == 7);
}

TEST_CASE("storage thread: a full batch is written without waiting for the timer") {
  TempDir dir;
  StorageThread::Options o = slow_timer();
  o.batch_rows = 10;
  StorageThread st(open_test_store(dir.file("gemgate.db")), o);
  for (int i = 0; i < 25; ++i) st.append_request_log(row(i));
  // The timer is an hour away: only the batch size can have triggered these writes.
  CHECK(eventually([&] { return st.counters().rows_written >= 20; }));
}

TEST_CASE("storage thread: the timer writes a partial batch") {
  TempDir dir;
  StorageThread::Options o;
  o.flush_interval = 30ms;
  StorageThread st(open_test_store(dir.file("gemgate.db")), o);
  for (int i = 0; i < 3; ++i) st.append_request_log(row(i));
  CHECK(eventually([&] { return st.counters().rows_written == 3; }));
}

TEST_CASE("storage thread: key health is coalesced per key, latest wins") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto ids = store->add_keys({fake_key(1), fake_key(2)}, 1).value().added_ids;
  StorageThread st(std::move(store), slow_timer());
  for (int i = 1; i <= 50; ++i) {
    KeyHealthRow h;
    h.key_id = ids[static_cast<std::size_t>(i % 2)];
    h.consecutive_failures = i;
    h.cooldowns = {{"gemini-2.5-pro", 1000 * i, i}};
    st.update_key_health(h);
  }
  st.touch_token(1, 500);  // unknown token: ignored without error
  REQUIRE(st.flush().ok());
  auto keys = on_thread<std::vector<Key>>(st, [](Store& s) { return s.load_keys().value(); });
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].health.consecutive_failures == 50);  // ids[0] got the even i values
  CHECK(keys[1].health.consecutive_failures == 49);
  CHECK(keys[0].health.cooldowns.at(0).until_ms == 50'000);
}

TEST_CASE("storage thread: token touches keep the latest time") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto id = store->add_token({"t", testing::fake_sha256(1), "sk-g", "abcd", 1}).value();
  StorageThread st(std::move(store), slow_timer());
  st.touch_token(id, 9000);
  st.touch_token(id, 3000);
  REQUIRE(st.flush().ok());
  auto tokens =
      on_thread<std::vector<ClientToken>>(st, [](Store& s) { return s.list_tokens().value(); });
  CHECK(tokens.at(0).last_used_at == 9000);
}

TEST_CASE("storage thread: jobs from many threads all run, each thread's in FIFO order") {
  TempDir dir;
  StorageThread st(open_test_store(dir.file("gemgate.db")), slow_timer());
  constexpr int kThreads = 6, kJobs = 300;
  std::vector<std::vector<int>> seen(kThreads);  // touched only on the storage thread
  std::atomic<int> ran{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < kJobs; ++j) {
        st.append_request_log(row(t * 100000 + j));
        CHECK(st.submit([&, t, j](Store&) {  // CHECK: a failed REQUIRE would throw off-thread
          CHECK(st.on_storage_thread());
          seen[static_cast<std::size_t>(t)].push_back(j);
          ran.fetch_add(1);
        }));
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(st.flush().ok());
  CHECK(ran.load() == kThreads * kJobs);
  for (const auto& s : seen) {
    REQUIRE(s.size() == static_cast<std::size_t>(kJobs));
    for (int j = 0; j < kJobs; ++j) CHECK(s[static_cast<std::size_t>(j)] == j);
  }
  CHECK(count_logs(st) == kThreads * kJobs);
  CHECK_FALSE(st.on_storage_thread());
}

TEST_CASE("storage thread: flush() from inside a job and a throwing job do not wedge it") {
  TempDir dir;
  StorageThread st(open_test_store(dir.file("gemgate.db")), slow_timer());
  REQUIRE(st.submit([](Store&) { throw std::runtime_error("boom"); }));
  auto r = on_thread<std::int64_t>(st, [&st](Store& s) {
    st.append_request_log(row(1));
    REQUIRE(st.flush().ok());  // inline: waiting for ourselves would deadlock
    return s.query_request_logs({}, {}).value().total;
  });
  CHECK(r == 1);
  REQUIRE(st.flush().ok());  // the flush barrier runs after both jobs have finished
  CHECK(st.counters().jobs_run >= 2);
}

TEST_CASE("storage thread: beyond max_queued_rows new rows are dropped and counted") {
  TempDir dir;
  StorageThread::Options o = slow_timer();
  o.max_queued_rows = 10;
  o.batch_rows = 1000;
  StorageThread st(open_test_store(dir.file("gemgate.db")), o);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  REQUIRE(st.submit([gate](Store&) { gate.wait(); }));  // hold the thread busy
  for (int i = 0; i < 25; ++i) st.append_request_log(row(i));
  CHECK(st.counters().rows_dropped == 15);
  release.set_value();
  REQUIRE(st.flush().ok());
  CHECK(count_logs(st) == 10);
}

TEST_CASE("storage thread: rows survive a busy database and are written once it frees up" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  StorageThread::Options o = slow_timer();
  o.retry_delay = 50ms;
  auto store = testing::open_sqlite(path);
  // No waiting for the lock: the outcome (a retriable busy failure, rows kept) is what counts,
  // not the 5 s a real busy timeout would spend.
  store->set_busy_timeout(0ms);
  StorageThread st(std::move(store), o);
  {
    // Another process-like connection holds the write lock.
    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 5; ++i) st.append_request_log(row(i));
    auto first = st.flush();  // fails at once with SQLITE_BUSY; the rows wait for a retry
    CHECK_FALSE(first.ok());
    CHECK(st.counters().write_errors >= 1);
    CHECK(st.counters().rows_dropped == 0);
    other.exec("ROLLBACK");
  }
  REQUIRE(st.flush().ok());
  CHECK(count_logs(st) == 5);
  CHECK(st.counters().rows_written == 5);
}

TEST_CASE(
    "storage thread: rows keep their order through retries (one batch or several) and "
    "reused batch storage" *
    doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  StorageThread::Options o = slow_timer();
  o.retry_delay = 50ms;
  o.batch_rows = 4;
  auto store = testing::open_sqlite(path);
  store->set_busy_timeout(0ms);
  StorageThread st(std::move(store), o);
  int next = 0;
  // Written batches first, so later ones reuse their storage.
  for (; next < 12; ++next) st.append_request_log(row(next));
  REQUIRE(st.flush().ok());
  {
    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    for (; next < 15; ++next) st.append_request_log(row(next));  // less than one batch
    CHECK_FALSE(st.flush().ok());
    for (; next < 26; ++next) st.append_request_log(row(next));  // several batches behind it
    CHECK_FALSE(st.flush().ok());
    other.exec("ROLLBACK");
  }
  REQUIRE(st.flush().ok());
  for (; next < 30; ++next) st.append_request_log(row(next));
  REQUIRE(st.flush().ok());
  CHECK(st.counters().rows_dropped == 0);
  CHECK(st.counters().rows_written == 30);
  // Ids grow in the order rows were written; each row's time is its append index.
  auto rows = on_thread<std::vector<RequestLogRow>>(st, [](Store& s) {
    return s.query_request_logs({}, {1, kMaxPerPage}).value().items;
  });
  REQUIRE(rows.size() == 30);
  std::sort(rows.begin(), rows.end(),
            [](const RequestLogRow& a, const RequestLogRow& b) { return a.id < b.id; });
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i].time_ms == static_cast<Millis>(i));
}

TEST_CASE("storage thread: while writes back off, a job meets the database at once" *
          doctest::test_suite("sqlite-only")) {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  StorageThread::Options o = slow_timer();
  o.retry_delay = std::chrono::hours(1);  // the timer never retries during the test
  auto store = testing::open_sqlite(path);
  store->set_busy_timeout(0ms);
  StorageThread st(std::move(store), o);
  SQLite::Database other(path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  for (int i = 0; i < 3; ++i) st.append_request_log(row(i));
  REQUIRE_FALSE(st.flush().ok());
  const auto errors = st.counters().write_errors;
  // An admin write behind the failing queue: it runs without another failed attempt at the
  // rows first, and gets its own retriable error to answer with.
  std::promise<Result<void>> saved;
  REQUIRE(st.submit([&](Store& s) {
    SettingsBatch batch;
    batch.set["max_retries"] = "2";
    batch.updated_at = 1;
    saved.set_value(s.save_settings(batch));
  }));
  Result<void> r = saved.get_future().get();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().retriable);
  CHECK(st.counters().write_errors == errors);
  CHECK(st.counters().rows_dropped == 0);
  other.exec("ROLLBACK");
  REQUIRE(st.flush().ok());  // a flush tries now, whatever the timer says
  CHECK(count_logs(st) == 3);
}

}  // namespace
}  // namespace gemgate::storage
