#include "filters/log/log_filter.h"

#include "core/access_log.h"
#include "core/exchange.h"
#include "core/log.h"

namespace gemgate::logging {

namespace {

struct LogConfig {
  bool access_log = true;  // write the access line
  bool store = true;       // hand each exchange to the LogSink (the stored request log)
};

class LogFilter final : public Filter {
 public:
  LogFilter(bool access_log, std::shared_ptr<LogSink> sink)
      : access_log_(access_log), sink_(std::move(sink)) {}
  // sink_ is null when the chain asked not to store rows (store: false).

  void on_done(const Exchange& x) override {
    const StreamInfo& info = x.info();
    if (sink_) sink_->record_request(info);
    if (!access_log_) return;
    std::string line;
    line.reserve(160);
    line += info.method;
    line += ' ';
    line += info.path;
    line += ' ';
    line += std::to_string(info.status);
    line += ' ';
    line += std::to_string(info.latency_ms());
    line += "ms";
    if (!info.model.empty()) line += " model=" + info.model;
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
