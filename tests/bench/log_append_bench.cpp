// The stored request log's write path alone: N rows shaped like the gateway's (arriving in time
// order at 20 000 a second, two keys, one model, one token, request ids from two worker threads)
// appended through a StorageThread to a SqliteStore on a file, as the gateway does. Prints the
// CPU time of the whole process per row (the storage thread's work plus the appends): the
// figure the stored log adds to every request. Asserts nothing (timing goals are not tests).
//
// Usage: [BATCH_ROWS=n] [DROP_INDEXES=a,b] [INSTANCE=name] bench_log_append [rows=100000] [file]
// (default: a temp directory, removed afterwards; BATCH_ROWS: rows per transaction, default the
// gateway's; INSTANCE: the rows of a named gateway of a group, default an unnamed one's "")
#include <SQLiteCpp/SQLiteCpp.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

#include "storage/sqlite/sqlite_store.h"
#include "storage/storage_thread.h"

using namespace gemgate;
using namespace gemgate::storage;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Row `i` of a gateway at `rate` requests per second, named `instance` ("" = an unnamed gateway).
RequestLogRow gateway_row(int i, Millis start_ms, int rate, const std::string& instance) {
  RequestLogRow r;
  r.time_ms = start_ms + static_cast<Millis>(i) * 1000 / rate;
  r.route = "gemini";
  r.method = "POST";
  r.path = "/v1beta/models/gemini-2.5-flash:generateContent";
  r.model = "gemini-2.5-flash";
  r.key_id = 1 + i % 2;
  r.token_id = 1;
  r.status = 200;
  r.latency_ms = 2;
  r.attempts = 1;
  r.prompt_tokens = 5;
  r.completion_tokens = 9;
  r.total_tokens = 14;
  char id[32];
  std::snprintf(id, sizeof id, "req-%s%08x", i % 2 ? "a1b2c3d4" : "e5f6a7b8", i / 2);
  r.request_id = id;
  r.instance_id = instance;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::atoi(argv[1]) : 100'000;
  // Default: a fresh directory of its own (the database and the master key file beside it).
  std::filesystem::path dir;
  if (argc <= 2) {
    char tmpl[] = "/tmp/bench-log-XXXXXX";
    if (!mkdtemp(tmpl)) return 1;
    dir = tmpl;
  }
  const std::string path = dir.empty() ? argv[2] : (dir / "gemgate.db").string();
  auto store = SqliteStore::open(path);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    return 1;
  }
  // DROP_INDEXES=a,b: what the insert costs without those indexes (an experiment, never a
  // migration: the file is the bench's own).
  if (const char* drop = std::getenv("DROP_INDEXES")) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    std::string names = std::string(drop) + ",";
    for (std::size_t at; (at = names.find(',')) != std::string::npos; names.erase(0, at + 1)) {
      if (at > 0) db.exec("DROP INDEX " + names.substr(0, at));
    }
  }
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  {
    StorageThread::Options options;
    if (const char* b = std::getenv("BATCH_ROWS"))
      options.batch_rows = std::strtoul(b, nullptr, 10);
    StorageThread thread(std::move(*store), options);
    const Millis start = 1'700'000'000'000;
    const char* instance_env = std::getenv("INSTANCE");
    const std::string instance = instance_env ? instance_env : "";
    // Paced like a gateway at kRate requests per second: a slice every 25 ms.
    constexpr int kRate = 20'000;
    constexpr int kSlice = kRate / 40;
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < rows; ++i) {
      thread.append_request_log(gateway_row(i, start, kRate, instance));
      if (i % kSlice == kSlice - 1) {
        next += std::chrono::milliseconds(25);
        std::this_thread::sleep_until(next);
      }
    }
    thread.stop();  // writes every queued row
    const auto c = thread.counters();
    std::printf("%d rows appended: %llu written, %llu dropped\n", rows,
                static_cast<unsigned long long>(c.rows_written),
                static_cast<unsigned long long>(c.rows_dropped));
  }
  const double cpu = cpu_seconds() - cpu0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("CPU %.2f us per row (%.0f ms CPU, %.0f ms wall)\n", cpu * 1e6 / rows, cpu * 1e3,
              wall * 1e3);
  if (!dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
