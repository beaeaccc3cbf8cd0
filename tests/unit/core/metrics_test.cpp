// core/metrics: sharded cells sum every thread's adds; label tables stay bounded (overflow slot);
// histograms are cumulative with a sum; the exposition escapes label values and HELP text as the
// format requires; RequestMetrics counts by route, chain, status class and model.
#include "core/metrics/metrics.h"

#include <doctest/doctest.h>
#include <thread>
#include <vector>

#include "core/metrics/request_metrics.h"

using namespace gemgate;
using namespace gemgate::metrics;

TEST_CASE("sharded cells: adds from many threads all count") {
  ShardedCells cells(3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) cells.add(1);
      cells.add(2, 5);
    });
  }
  for (auto& t : threads) t.join();
  CHECK(cells.sum(0) == 0);
  CHECK(cells.sum(1) == 80000);
  CHECK(cells.sum(2) == 40);
  cells.add(0, static_cast<uint64_t>(-3));  // a gauge going down
  CHECK(cells.sum_signed(0) == -3);
}

TEST_CASE("label tables intern up to their capacity, then share the overflow slot") {
  LabelTable t(2);
  size_t a = t.intern("a", "x");
  CHECK(t.intern("a", "x") == a);
  CHECK(t.intern("a", "y") != a);  // both parts count
  CHECK(t.used() == 2);
  CHECK(t.intern("b") == t.overflow());
  CHECK(t.intern("c") == t.overflow());
  CHECK(t.used() == 2);
  CHECK(t.first(a) == "a");
  CHECK(t.second(a) == "x");
}

TEST_CASE("histograms: cumulative buckets, +Inf, sum; nonsense values ignored") {
  Histograms h(2, {0.1, 1});
  h.observe(0, 0.05);
  h.observe(0, 0.5);
  h.observe(0, 5);
  h.observe(0, -1);
  h.observe(1, 0.1);  // on the bound: le is inclusive
  CHECK(h.cumulative(0) == std::vector<uint64_t>{1, 2, 3});
  CHECK(h.cumulative(1) == std::vector<uint64_t>{1, 1, 1});
  CHECK(h.sum_seconds(0) == doctest::Approx(5.55));
}

TEST_CASE("exposition: HELP and TYPE, escaped label values, histogram samples") {
  Writer w;
  w.family("x_total", "counter", "line one\nback\\slash");
  Label l[] = {{"v", "q\"uote\nnew\\line"}};
  w.sample("x_total", l, uint64_t{3});
  w.family("h_seconds", "histogram", "h");
  Label hl[] = {{"route", "/r"}};
  w.histogram("h_seconds", hl, {0.005, 10}, {1, 2, 2}, 0.25);
  std::string text = w.take();
  CHECK(text.find("# HELP x_total line one\\nback\\\\slash\n# TYPE x_total counter\n") == 0);
  CHECK(text.find("x_total{v=\"q\\\"uote\\nnew\\\\line\"} 3\n") != std::string::npos);
  CHECK(text.find("h_seconds_bucket{route=\"/r\",le=\"0.005\"} 1\n") != std::string::npos);
  CHECK(text.find("h_seconds_bucket{route=\"/r\",le=\"10\"} 2\n") != std::string::npos);
  CHECK(text.find("h_seconds_bucket{route=\"/r\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(text.find("h_seconds_sum{route=\"/r\"} 0.25\n") != std::string::npos);
  CHECK(text.find("h_seconds_count{route=\"/r\"} 2\n") != std::string::npos);
}

TEST_CASE("registry renders every collector in order") {
  Registry r;
  r.add([](Writer& w) { w.family("a", "gauge", "a"); });
  r.add([](Writer& w) { w.family("b", "gauge", "b"); });
  std::string text = r.render();
  CHECK(text.find("# TYPE a gauge") < text.find("# TYPE b gauge"));
}

namespace {

StreamInfo finished(int status, std::string route = "/v1beta/", std::string chain = "gemini") {
  StreamInfo info;
  info.route = std::move(route);
  info.chain = std::move(chain);
  info.status = status;
  info.start = StreamInfo::Clock::now();
  info.end = info.start + std::chrono::milliseconds(20);
  info.first_byte = info.start + std::chrono::milliseconds(5);
  return info;
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("request metrics: route, chain, status class, model; tokens; retries") {
  RequestMetrics m;
  StreamInfo ok = finished(200);
  ok.attempts = 3;
  ok.usage.known = true;
  ok.usage.prompt = 7;
  ok.usage.completion = 4;
  ok.usage.thoughts = 2;
  m.record(ok, "gemini-2.5-flash");
  m.record(finished(401), "");
  m.record(finished(503), "gemini-2.5-flash");
  m.record(finished(0), "");                   // no status at all: counted as a server failure
  m.record(finished(499), "bad model\"name");  // not a plain model id
  Writer w;
  m.collect(w);
  std::string t = w.take();
  const std::string g = "route=\"/v1beta/\",chain=\"gemini\"";
  CHECK(has(t, "gemgate_http_requests_total{" + g + ",code=\"2xx\",model=\"gemini-2.5-flash\"} 1"));
  CHECK(has(t, "gemgate_http_requests_total{" + g + ",code=\"4xx\",model=\"none\"} 1"));
  CHECK(has(t, "gemgate_http_requests_total{" + g + ",code=\"5xx\",model=\"gemini-2.5-flash\"} 1"));
  CHECK(has(t, "gemgate_http_requests_total{" + g + ",code=\"5xx\",model=\"none\"} 1"));
  CHECK(has(t, "gemgate_http_requests_total{" + g + ",code=\"4xx\",model=\"other\"} 1"));
  CHECK(has(t, "gemgate_upstream_retries_total{" + g + "} 2"));
  CHECK(has(t, "gemgate_tokens_total{model=\"gemini-2.5-flash\",direction=\"in\"} 7"));
  CHECK(has(t, "gemgate_tokens_total{model=\"gemini-2.5-flash\",direction=\"out\"} 6"));
  CHECK(has(t, "gemgate_http_request_duration_seconds_count{" + g + "} 5"));
  CHECK(has(t, "gemgate_http_request_duration_seconds_bucket{" + g + ",le=\"0.025\"} 5"));
  CHECK(has(t, "gemgate_http_time_to_first_byte_seconds_bucket{" + g + ",le=\"0.005\"} 5"));
  CHECK(t.find("bad model") == std::string::npos);
}

TEST_CASE("request metrics: models beyond the cap are one 'other' series") {
  RequestMetrics m;
  for (size_t i = 0; i < RequestMetrics::kMaxModels + 20; ++i) {
    m.record(finished(200), "model-" + std::to_string(i));
  }
  Writer w;
  m.collect(w);
  std::string t = w.take();
  size_t series = 0;
  for (size_t at = 0; (at = t.find("gemgate_http_requests_total{", at)) != std::string::npos; ++at)
    ++series;
  CHECK(series == RequestMetrics::kMaxModels);  // kMaxModels - 1 named ("none" holds one) + other
  CHECK(has(t,
            "gemgate_http_requests_total{route=\"/v1beta/\",chain=\"gemini\",code=\"2xx\","
            "model=\"other\"} 21"));
}
