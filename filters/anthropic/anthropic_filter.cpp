// The `anthropic` filter: routes each request to its op (ops/) and applies what they share;
// registers the filter, its setting and the `anthropic` error format.
#include "filters/anthropic/anthropic_filter.h"

#include <memory>
#include <optional>
#include <string_view>

#include "core/config_node.h"
#include "core/exchange.h"
#include "filters/anthropic/ops/anthropic_op.h"
#include "filters/anthropic/translate/translate.h"

namespace gemgate::anthropic {

namespace {

struct AnthropicConfig {
  int64_t ping_interval_ms = 15'000;
};

struct Route {
  bool (*matches)(std::string_view path);
  const char* method;
  std::unique_ptr<AnthropicOp> (*make)(const OpContext&);
};

constexpr Route kRoutes[] = {
    {[](std::string_view p) { return p == "/messages"; }, "POST", &make_messages_op},
    {[](std::string_view p) { return p == "/messages/count_tokens"; }, "POST",
     &make_count_tokens_op},
    {[](std::string_view p) { return p == "/models"; }, "GET", &make_models_list_op},
    {[](std::string_view p) { return p.starts_with("/models/") && p.size() > 8; }, "GET",
     &make_model_get_op},
};

class AnthropicFilter final : public Filter {
 public:
  explicit AnthropicFilter(std::shared_ptr<const AnthropicConfig> config)
      : config_(std::move(config)) {}

  Status on_request(FilterCallbacks& x) override {
    const http::Request& req = x.request();
    const Route* route = nullptr;
    for (const Route& r : kRoutes) {
      if (r.matches(req.path)) {
        route = &r;
        break;
      }
    }
    if (!route) return reply_error(x, error_for_status(404, "unknown endpoint " + req.path));
    if (req.method != route->method) {
      return reply_error(
          x, error_for_status(405, std::string("use ") + route->method + " for " + req.path));
    }
    op_ = route->make(OpContext{*this, config_->ping_interval_ms});
    return op_->on_request(x);
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (r.local_error) return Status::Continue;  // rendered in Anthropic's shape by the chain
    if (r.status < 200 || r.status >= 300) {
      r = error_response(translate_gemini_error(r.status, r.body));
      return Status::Continue;
    }
    return op_ ? op_->on_response_head(x) : Status::Continue;
  }

  void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) override {
    if (op_) op_->on_response_data(x, chunk, last);
  }

  void on_done(const FilterCallbacks&) override {
    if (op_) op_->on_done();
  }

 private:
  std::shared_ptr<const AnthropicConfig> config_;
  std::unique_ptr<AnthropicOp> op_;
};

// `ping_interval: 15s`: a duration; 0 turns the keep-alive off.
void read_ping_interval(const ConfigNode& node, std::string_view key, AnthropicConfig& cfg,
                        ConfigErrors& errors) {
  int64_t ms = cfg.ping_interval_ms;
  if (!config::read_duration_ms(node, key, &ms, errors)) return;
  if (ms != 0 && ms < 10) {
    errors.add(node.get(key)->mark(), "'ping_interval' must be 0 (off) or at least 10ms");
    return;
  }
  cfg.ping_interval_ms = ms;
}

std::string render_anthropic_error(const http::LocalError& e) {
  return error_for_status(e.status, e.message).to_json();
}

}  // namespace

http::Response error_response(const AnthropicError& e) {
  http::Response r;
  r.status = e.status;
  r.headers.set("content-type", "application/json");
  if (e.retry_after_ms)
    r.headers.set("retry-after", std::to_string((*e.retry_after_ms + 999) / 1000));
  r.body = e.to_json();
  return r;
}

Status reply_error(FilterCallbacks& x, const AnthropicError& e) {
  x.info().error = e.message;
  x.respond(error_response(e));
  return Status::Stop;
}

void aim(http::Request& req, std::string_view method, std::string_view target, std::string body) {
  req.method = std::string(method);
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  req.query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
  req.body = std::move(body);
  req.headers.set("content-type", "application/json");
  req.headers.set("accept", "application/json");
  // Anthropic's own headers mean nothing to Google.
  req.headers.remove("anthropic-version");
  req.headers.remove("anthropic-beta");
  req.headers.remove("x-api-key");
}

Result<void> register_anthropic_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kFetchPrivateUrls.with(
          {.description = "Allow image/document URLs on local/private addresses in Anthropic "
                          "Messages calls (off: the gateway never reads its own network).",
           .default_json = "false"}),
  });
  if (!declared.ok()) return declared;
  if (auto r = registry.add_error_format("anthropic", &render_anthropic_error); !r.ok()) return r;
  return registry.add_filter(FilterDef<AnthropicConfig>{
      .name = "anthropic",
      .summary = "serves Anthropic's Messages API by translating to and from Gemini",
      .fields = {{.key = "ping_interval", .read = &read_ping_interval}},
      .build = [](const FilterBuild<AnthropicConfig>& b) -> std::optional<FilterFactory> {
        return FilterFactory(
            [config = b.config] { return std::make_unique<AnthropicFilter>(config); });
      },
  });
}

}  // namespace gemgate::anthropic
