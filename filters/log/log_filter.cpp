#include "filters/log/log_filter.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "core/access_log.h"
#include "core/exchange.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics/request_metrics.h"

namespace gemgate::logging {

namespace {

// True when the request was answered before any client token authenticated it and before any
// upstream attempt: the auth filter's 401/403, whichever hook (head or body) refused it. Derived
// from what every exchange records, so it does not depend on how the refusal was produced.
bool refused_before_auth(const StreamInfo& info) {
  return info.token_id < 0 && info.attempts == 0 && info.key_id < 0 &&
         (info.status == 401 || info.status == 403);
}

struct LogConfig {
  bool access_log = true;  // write the access line
  bool store = true;       // hand each exchange to the LogSink (the stored request log)
};

// The access line in json format: one object with stable field names (README "Observe").
void write_json_access_line(const StreamInfo& info, std::string_view path, std::string_view model) {
  std::string msg = info.method + " " + std::string(path) + " " + std::to_string(info.status);
  double ttfb = info.first_byte_seconds();
  std::vector<log::Field> f = {
      log::Field::str("event", "access"),
      log::Field::str("request_id", info.request_id),
      log::Field::str("route", info.route),
      log::Field::str("chain", info.chain),
      log::Field::str("method", info.method),
      log::Field::str("path", path),
      log::Field::num("status", info.status),
      log::Field::num("latency_ms", info.latency_ms()),
      log::Field::num("ttfb_ms", ttfb >= 0 ? static_cast<int64_t>(ttfb * 1000) : -1),
      log::Field::str("model", model),
      log::Field::num("key_id", info.key_id),
      log::Field::num("token_id", info.token_id),
      log::Field::num("attempts", info.attempts),
      log::Field::flag("stream", info.stream),
      log::Field::num("bytes_in", static_cast<int64_t>(info.bytes_in)),
      log::Field::num("bytes_out", static_cast<int64_t>(info.bytes_out)),
      log::Field::flag("client_aborted", info.client_aborted),
      log::Field::str("client_addr", info.client_addr),
  };
  if (info.usage.known) {
    f.push_back(log::Field::num("tokens_in", info.usage.prompt));
    f.push_back(log::Field::num("tokens_out", info.usage.completion + info.usage.thoughts));
    f.push_back(log::Field::num("tokens_total", info.usage.total));
  }
  if (!info.error.empty()) {
    f.push_back(log::Field::str("error", info.error));
    f.push_back(log::Field::str("error_kind", info.error_kind));
  }
  log::write_fields(log::Level::kInfo, msg, f);
}

class LogFilter final : public Filter {
 public:
  LogFilter(bool access_log, std::shared_ptr<LogSink> sink,
            std::shared_ptr<metrics::RequestMetrics> metrics)
      : access_log_(access_log), sink_(std::move(sink)), metrics_(std::move(metrics)) {}
  // sink_ is null when the chain asked not to store rows (store: false); metrics_ when the
  // gateway keeps no metrics.

  // Remembers the credentials the request presents, before auth strips them: whatever they are
  // (even wrong), they are masked wherever this request's path or model repeats them. At head
  // time, because auth may refuse there and then no body-phase hook runs.
  Status on_request_headers(FilterCallbacks& x) override {
    const http::Request& req = x.request();
    if (auto key = req.query_param("key")) presented_.push_back(std::move(*key));
    if (const std::string* v = req.headers.get("x-goog-api-key")) presented_.push_back(*v);
    if (const std::string* v = req.headers.get("authorization")) {
      std::string_view cred(*v);
      cred.remove_prefix(std::min(cred.size(), cred.find(' ') + 1));  // after "Bearer "
      while (!cred.empty() && cred.front() == ' ') cred.remove_prefix(1);
      presented_.emplace_back(cred);
    }
    return Status::Continue;
  }

  void on_done(const FilterCallbacks& x) override {
    const StreamInfo& info = x.info();
    std::vector<std::string_view> also(presented_.begin(), presented_.end());
    std::string path = log::redact(info.path, also);
    std::string model = log::redact(info.model, also);
    if (metrics_) {
      // A model name becomes a label only when no secret was masked in it and the request was
      // authenticated (or reached the upstream): anyone else's names count as "other".
      bool trusted = model == info.model && (info.token_id >= 0 || info.attempts > 0);
      metrics_->record(info, info.model.empty() ? std::string_view() : trusted ? model : "*");
    }
    if (sink_) {
      if (refused_before_auth(info)) {
        sink_->record_refused(info);  // counted, not stored row by row
      } else if (path == info.path && model == info.model) {
        sink_->record_request(info);
      } else {
        StreamInfo masked = info;  // rare: only when a secret was in the path or model
        masked.path = path;
        masked.model = model;
        sink_->record_request(masked);
      }
    }
    if (!access_log_ || info.access_log_suppressed) return;
    if (log::format() == log::Format::kJson) {
      write_json_access_line(info, path, model);
      return;
    }
    // The access line is assembled from redacted pieces and written without a second pass
    // over the whole: the values a client or the upstream chose (method, path, model, error,
    // request id) are each redacted here, with the credentials this request presented; the
    // rest are numbers and words of our own and the peer address we formatted.
    std::string line;
    line.reserve(160);
    log::redact_append(line, info.method, also);
    line += ' ';
    line += path;
    line += ' ';
    line += std::to_string(info.status);
    line += ' ';
    line += std::to_string(info.latency_ms());
    line += "ms";
    // Appended piece by piece: a `" x=" + value` temporary is an allocation of its own.
    auto field = [&line](std::string_view name, std::string_view value) {
      line += ' ';
      line += name;
      line += '=';
      line += value;
    };
    if (!model.empty()) field("model", model);
    if (info.key_id >= 0) field("key_id", std::to_string(info.key_id));
    if (info.attempts > 1) field("attempts", std::to_string(info.attempts));
    if (info.stream) line += " stream";
    if (info.usage.known) field("tokens", std::to_string(info.usage.total));
    if (info.client_aborted) line += " client-aborted";
    // Redacted, then quoted and escaped: an error quoting the client's input (a model name
    // with a newline) must not split the line or fake another one.
    if (!info.error.empty()) field("error", json_quote_utf8(log::redact(info.error, also)));
    field("from", info.client_addr);
    line += " id=";
    log::redact_append(line, info.request_id, also);  // a client may choose its request id
    log::write_redacted(log::Level::kInfo, line);
  }

 private:
  bool access_log_;
  std::shared_ptr<LogSink> sink_;
  std::shared_ptr<metrics::RequestMetrics> metrics_;
  std::vector<std::string> presented_;
};

}  // namespace

Result<void> register_log_filter(Registry& registry) {
  return registry.add_filter(FilterDef<LogConfig>{
      .name = "log",
      .summary = "writes the access line and the stored request-log row",
      .fields = {field::flag("access_log", &LogConfig::access_log),
                 field::flag("store", &LogConfig::store)},
      .build = [](const FilterBuild<LogConfig>& b) -> std::optional<FilterFactory> {
        bool access_log = b.config->access_log;
        auto sink = b.config->store ? b.ctx.services.get<LogSink>() : nullptr;
        auto metrics = b.ctx.services.get<metrics::RequestMetrics>();
        return FilterFactory([access_log, sink, metrics] {
          return std::make_unique<LogFilter>(access_log, sink, metrics);
        });
      },
  });
}

}  // namespace gemgate::logging
