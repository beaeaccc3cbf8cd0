#include "filters/log/log_filter.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "core/access_log.h"
#include "core/exchange.h"
#include "core/log.h"

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

class LogFilter final : public Filter {
 public:
  LogFilter(bool access_log, std::shared_ptr<LogSink> sink)
      : access_log_(access_log), sink_(std::move(sink)) {}
  // sink_ is null when the chain asked not to store rows (store: false).

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
    std::string line;
    line.reserve(160);
    line += info.method;
    line += ' ';
    line += path;
    line += ' ';
    line += std::to_string(info.status);
    line += ' ';
    line += std::to_string(info.latency_ms());
    line += "ms";
    if (!model.empty()) line += " model=" + model;
    if (info.key_id >= 0) line += " key_id=" + std::to_string(info.key_id);
    if (info.attempts > 1) line += " attempts=" + std::to_string(info.attempts);
    if (info.stream) line += " stream";
    if (info.usage.known) line += " tokens=" + std::to_string(info.usage.total);
    if (info.client_aborted) line += " client-aborted";
    if (!info.error.empty()) line += " error=\"" + info.error + "\"";
    line += " from=" + info.client_addr;
    log::info(line);
  }

 private:
  bool access_log_;
  std::shared_ptr<LogSink> sink_;
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
        return FilterFactory(
            [access_log, sink] { return std::make_unique<LogFilter>(access_log, sink); });
      },
  });
}

}  // namespace gemgate::logging
