// Upper bound for the upstream side: the CurlMultiTransport alone on one loop, keeping
// `concurrency` POST requests in flight against a URL for `seconds`, no downstream at all.
// tests/bench/run.sh prints its requests/s next to the proxies, to show how much of a proxied
// request is libcurl's own cost. Prints requests/s, failures, CPU µs per request (getrusage,
// whole process, user + system) malloc calls per request and peak RSS in KiB; bench_curl_floor
// prints the same for bare libcurl.
//
// Usage: bench_transport URL [seconds] [concurrency] [ca-file|-] [--long-lived]
//   ca-file: a private CA, e.g. the benchmark's self-signed TLS upstream ("-": none);
//   --long-lived: UpstreamRequest::long_lived (the small receive buffer of event streams)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <uv.h>
#include <vector>

#include "malloc_count.h"
#include "transports/curl_multi_transport.h"

using namespace gemgate::transport;

namespace {

struct Run;

struct Caller final : UpstreamHandler {
  Run* run = nullptr;
  std::unique_ptr<Transfer> transfer;
  void start();
  void on_upstream_head(int, gemgate::http::HeaderMap) override {}
  void on_upstream_data(std::string_view) override {}
  void on_upstream_done(const Failure* failure) override;
};

struct Run {
  std::string url;
  CurlMultiTransport* transport = nullptr;
  std::shared_ptr<const std::string> body = std::make_shared<const std::string>(
      R"({"contents":[{"role":"user","parts":[{"text":"Hello"}]}]})");
  long done = 0;
  long failed = 0;
  bool stopping = false;
  bool long_lived = false;
};

void Caller::start() {
  UpstreamRequest req;
  req.url = run->url;
  req.headers.set("content-type", "application/json");
  req.body = run->body;
  req.long_lived = run->long_lived;
  transfer = run->transport->start(std::move(req), *this);
}

void Caller::on_upstream_done(const Failure* failure) {
  if (run->stopping) return;
  ++(failure ? run->failed : run->done);
  start();
}

// The process's peak resident set so far, KiB.
long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_transport URL [seconds] [concurrency] [ca-file|-] [--long-lived]\n");
    return 2;
  }
  Run run;
  run.url = argv[1];
  int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  int concurrency = argc > 3 ? std::atoi(argv[3]) : 50;
  if (!global_init().ok()) return 1;
  uv_loop_t loop;
  uv_loop_init(&loop);
  CurlMultiTransport::Options options;
  options.max_cached_connections = 512;
  if (argc > 4 && std::string(argv[4]) != "-") options.ca_file = argv[4];
  run.long_lived = argc > 5 && std::string(argv[5]) == "--long-lived";
  auto transport = CurlMultiTransport::create(&loop, options);
  if (!transport.ok()) return 1;
  run.transport = transport->get();
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 0; i < concurrency; ++i) {
    callers.push_back(std::make_unique<Caller>());
    callers.back()->run = &run;
    callers.back()->start();
  }
  uv_timer_t stop;
  uv_timer_init(&loop, &stop);
  stop.data = &run;
  auto t0 = std::chrono::steady_clock::now();
  double cpu0 = cpu_seconds();
  long mallocs0 = bench::malloc_calls.load();
  long done0 = run.done;
  uv_timer_start(
      &stop,
      [](uv_timer_t* t) {
        auto* r = static_cast<Run*>(t->data);
        r->stopping = true;
        r->transport->close();
        uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
      },
      static_cast<uint64_t>(seconds) * 1000, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = cpu_seconds() - cpu0;
  double reqs = static_cast<double>(run.done - done0);
  double mallocs = static_cast<double>(bench::malloc_calls.load() - mallocs0);
  callers.clear();
  transport->reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  std::printf("%.2f %ld %.2f %.2f %ld\n", run.done / elapsed, run.failed,
              reqs > 0 ? cpu * 1e6 / reqs : 0.0, reqs > 0 ? mallocs / reqs : 0.0, peak_rss_kib());
  return run.done > 0 ? 0 : 1;
}
