#include "core/metrics/request_metrics.h"

#include <string>

namespace gemgate::metrics {

namespace {

// Latency buckets in seconds: LLM calls run from tens of milliseconds (errors, cached answers) to
// minutes (long generations).
std::vector<double> latency_bounds() {
  return {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
}

const char* const kClassNames[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

size_t status_class(int status) {
  if (status < 200) return status >= 100 ? 0 : 4;  // no status at all: the gateway failed
  if (status >= 500) return 4;
  return static_cast<size_t>(status / 100 - 1);
}

}  // namespace

bool plain_model_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ':' || c == '/';
    if (!ok) return false;
  }
  return true;
}

RequestMetrics::RequestMetrics()
    : routes_(kMaxRoutes),
      models_(kMaxModels),
      requests_((kMaxRoutes + 1) * kClasses * (kMaxModels + 1)),
      retries_(kMaxRoutes + 1),
      tokens_((kMaxModels + 1) * 2),
      duration_(kMaxRoutes + 1, latency_bounds()),
      first_byte_(kMaxRoutes + 1, latency_bounds()) {
  models_.intern("none");  // requests that named no model
}

void RequestMetrics::record(const StreamInfo& info, std::string_view model) {
  size_t route = routes_.intern(info.route, info.chain);
  size_t m = model.empty()             ? 0
             : plain_model_name(model) ? models_.intern(model)
                                       : models_.overflow();
  requests_.add(request_cell(route, status_class(info.status), m));
  if (info.attempts > 1) retries_.add(route, static_cast<uint64_t>(info.attempts - 1));
  duration_.observe(route, info.latency_seconds());
  double ttfb = info.first_byte_seconds();
  if (ttfb >= 0) first_byte_.observe(route, ttfb);
  if (info.usage.known) {
    // Gemini counts thoughts apart from the candidates; both are output the key paid for.
    tokens_.add(m * 2, static_cast<uint64_t>(std::max<int64_t>(0, info.usage.prompt)));
    tokens_.add(m * 2 + 1, static_cast<uint64_t>(
                               std::max<int64_t>(0, info.usage.completion + info.usage.thoughts)));
  }
}

void RequestMetrics::collect(Writer& w) const {
  size_t routes = routes_.used();
  size_t models = models_.used();
  auto route_labels = [&](size_t r, std::string_view* route, std::string_view* chain) {
    *route = r < routes ? std::string_view(routes_.first(r)) : "other";
    *chain = r < routes ? std::string_view(routes_.second(r)) : "other";
  };
  auto model_label = [&](size_t m) {
    return m < models ? std::string_view(models_.first(m)) : std::string_view("other");
  };
  // Series that never counted anything are left out; the overflow slot is shown only when used.
  std::vector<size_t> route_slots, model_slots;
  for (size_t r = 0; r < routes; ++r) route_slots.push_back(r);
  route_slots.push_back(routes_.overflow());
  for (size_t m = 0; m < models; ++m) model_slots.push_back(m);
  model_slots.push_back(models_.overflow());

  w.family("gemgate_http_requests_total", "counter",
           "Finished client requests by route, chain, status class and model.");
  for (size_t r : route_slots) {
    std::string_view route, chain;
    route_labels(r, &route, &chain);
    for (size_t c = 0; c < kClasses; ++c) {
      for (size_t m : model_slots) {
        uint64_t n = requests_.sum(request_cell(r, c, m));
        if (n == 0) continue;
        Label l[] = {{"route", route},
                     {"chain", chain},
                     {"code", kClassNames[c]},
                     {"model", model_label(m)}};
        w.sample("gemgate_http_requests_total", l, n);
      }
    }
  }
  w.family("gemgate_upstream_retries_total", "counter",
           "Upstream attempts beyond the first, by route and chain.");
  for (size_t r : route_slots) {
    uint64_t n = retries_.sum(r);
    if (n == 0 && r == routes_.overflow()) continue;
    std::string_view route, chain;
    route_labels(r, &route, &chain);
    Label l[] = {{"route", route}, {"chain", chain}};
    w.sample("gemgate_upstream_retries_total", l, n);
  }
  auto histograms = [&](const char* name, const char* help, const Histograms& h) {
    w.family(name, "histogram", help);
    for (size_t r : route_slots) {
      std::vector<uint64_t> cum = h.cumulative(r);
      if (cum.back() == 0 && r == routes_.overflow()) continue;
      std::string_view route, chain;
      route_labels(r, &route, &chain);
      Label l[] = {{"route", route}, {"chain", chain}};
      w.histogram(name, l, h.bounds(), cum, h.sum_seconds(r));
    }
  };
  histograms("gemgate_http_request_duration_seconds",
             "Time from the first byte of a request to the end of its answer.", duration_);
  histograms("gemgate_http_time_to_first_byte_seconds",
             "Time from the first byte of a request to its answer's head (streams: the first "
             "byte the client could read).",
             first_byte_);
  w.family("gemgate_tokens_total", "counter",
           "Tokens reported by the upstream, by model and direction (in = prompt, out = "
           "candidates and thoughts).");
  for (size_t m : model_slots) {
    uint64_t in = tokens_.sum(m * 2), out = tokens_.sum(m * 2 + 1);
    if (in == 0 && out == 0) continue;
    Label li[] = {{"model", model_label(m)}, {"direction", "in"}};
    Label lo[] = {{"model", model_label(m)}, {"direction", "out"}};
    w.sample("gemgate_tokens_total", li, in);
    w.sample("gemgate_tokens_total", lo, out);
  }
  auto gauge = [&](const char* name, const char* help, const std::function<int64_t()>& read) {
    if (!read) return;
    w.family(name, "gauge", help);
    w.sample(name, {}, read());
  };
  if (gauges_.rejected) {
    w.family("gemgate_http_rejected_total", "counter",
             "Requests the server answered itself before any chain ran (no route, malformed, too "
             "large or too slow, overloaded), by status class.");
    for (size_t c = 0; c < kClasses; ++c) {
      uint64_t n = gauges_.rejected(c);
      if (n == 0 && c != 3) continue;  // 4xx always shown, so the family is never empty
      Label l[] = {{"code", kClassNames[c]}};
      w.sample("gemgate_http_rejected_total", l, n);
    }
  }
  gauge("gemgate_open_connections", "Client connections open now.", gauges_.open_connections);
  gauge("gemgate_open_streams", "Streamed answers being sent now.", gauges_.open_streams);
  gauge("gemgate_buffered_request_bytes", "Request body bytes held in memory now.",
        gauges_.buffered_request_bytes);
}

}  // namespace gemgate::metrics
