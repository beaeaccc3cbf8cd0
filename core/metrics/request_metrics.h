// RequestMetrics: what the gateway's clients see, by route, chain, status class and model —
// requests, retries, latency and time-to-first-byte histograms, tokens in and out — plus the
// downstream gauges (open connections and streams, buffered request bytes) read at the scrape.
// Recorded once per finished request by the `log` filter; nothing here knows any one API.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include "core/metrics/metrics.h"
#include "core/stream_info.h"

namespace gemgate::metrics {

class RequestMetrics {
 public:
  // Distinct (route, chain) pairs and models kept apart; later ones are counted as "other".
  static constexpr size_t kMaxRoutes = 48;
  static constexpr size_t kMaxModels = 24;

  RequestMetrics();

  // Records one finished request. `model` is the model label to use: the caller passes ""
  // when the request named none, and only a name it trusts (not a secret; see the log filter).
  // Names that are no plain model id count as "other". Lock-free, allocation-free once the
  // route and model are known. Thread-safe.
  void record(const StreamInfo& info, std::string_view model);

  // Gauges read at each scrape (e.g. the server's connection count); set before serving.
  struct Gauges {
    std::function<int64_t()> open_connections;
    std::function<int64_t()> open_streams;
    std::function<int64_t()> buffered_request_bytes;
    // Requests the server answered before any chain, for status class `cls` (0 = 1xx .. 4 = 5xx).
    std::function<uint64_t(size_t cls)> rejected;
  };
  void set_gauges(Gauges gauges) { gauges_ = std::move(gauges); }

  // Writes every family (see README "Observe"). Thread-safe.
  void collect(Writer& w) const;

 private:
  static constexpr size_t kClasses = 5;  // 1xx .. 5xx
  size_t request_cell(size_t route, size_t cls, size_t model) const {
    return (route * kClasses + cls) * models_.slots() + model;
  }

  LabelTable routes_;  // (route, chain)
  LabelTable models_;
  ShardedCells requests_;  // route x class x model
  ShardedCells retries_;   // route
  ShardedCells tokens_;    // model x {in, out}
  Histograms duration_;    // route
  Histograms first_byte_;  // route
  Gauges gauges_;
};

// True when `name` may be a model label: 1 to 64 characters of [A-Za-z0-9._:/-].
bool plain_model_name(std::string_view name);

}  // namespace gemgate::metrics
