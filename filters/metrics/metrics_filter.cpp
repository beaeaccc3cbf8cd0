#include "filters/metrics/metrics_filter.h"

#include "core/crypto.h"
#include "core/exchange.h"
#include "core/log.h"
#include "core/metrics/metrics.h"
#include "core/text.h"

namespace gemgate::metrics_endpoint {

namespace {

struct MetricsConfig {
  std::string token;  // "" = no token: closed unless `open`
  bool open = false;
};

// The bearer credential of `request`, or "" when it presents none.
std::string_view bearer_of(const http::Request& request) {
  const std::string* auth = request.headers.get("authorization");
  if (!auth || !text::istarts_with(*auth, "bearer ")) return {};
  std::string_view v(*auth);
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v;
}

class MetricsFilter final : public Filter {
 public:
  MetricsFilter(std::shared_ptr<const MetricsConfig> config,
                std::shared_ptr<metrics::Registry> registry)
      : config_(std::move(config)), registry_(std::move(registry)) {}

  // Access is decided from the head, so a refused scraper's body is never buffered.
  Status on_request_headers(FilterCallbacks& x) override {
    const MetricsConfig& c = *config_;
    if (c.token.empty() && !c.open) {
      // Not enabled on this listener: indistinguishable from a path nobody serves.
      x.reply_local(404, "NOT_FOUND", "no route for " + x.info().path);
      return Status::Stop;
    }
    if (!c.token.empty()) {
      std::string_view given = bearer_of(x.request());
      if (given.empty() || !crypto::constant_time_equals(crypto::sha256_hex(given), token_hash())) {
        refuse(x, 401, "UNAUTHENTICATED",
               "the metrics endpoint needs 'Authorization: Bearer <metrics token>'",
               "www-authenticate", "Bearer");
        return Status::Stop;
      }
    }
    if (x.request().method != "GET" && x.request().method != "HEAD") {
      refuse(x, 405, "METHOD_NOT_ALLOWED", "the metrics endpoint answers GET only", "allow",
             "GET, HEAD");
      return Status::Stop;
    }
    return Status::Continue;
  }

  Status on_request(FilterCallbacks& x) override {
    http::Response& r = x.response();
    r.status = 200;
    r.headers.set("content-type", "text/plain; version=0.0.4; charset=utf-8");
    r.headers.set("cache-control", "no-store");
    r.body = registry_->render();
    return Status::Continue;
  }

 private:
  // Answers a local error with one extra header (rendered in the chain's error dialect).
  static void refuse(FilterCallbacks& x, int status, std::string code, std::string message,
                     const char* header, const char* value) {
    http::Response r;
    r.status = status;
    r.headers.set(header, value);
    r.local_error = http::LocalError{status, std::move(code), std::move(message), ""};
    x.respond(std::move(r));
  }

  // Hashing both sides first makes the comparison's time independent of the token's length too.
  const std::string& token_hash() {
    if (hash_.empty()) hash_ = crypto::sha256_hex(config_->token);
    return hash_;
  }

  std::shared_ptr<const MetricsConfig> config_;
  std::shared_ptr<metrics::Registry> registry_;
  std::string hash_;
};

}  // namespace

Result<void> register_metrics_filter(Registry& registry) {
  return registry.add_filter(FilterDef<MetricsConfig>{
      .name = "metrics",
      .summary = "answers Prometheus scrapes (terminal; closed unless a token is set or open)",
      .terminal = true,
      .fields = {field::text("token", &MetricsConfig::token),
                 field::flag("open", &MetricsConfig::open)},
      .build = [](const FilterBuild<MetricsConfig>& b) -> std::optional<FilterFactory> {
        auto metrics = b.require<metrics::Registry>("the metrics filter needs the metrics service");
        if (!metrics) return std::nullopt;
        if (!b.config->token.empty()) {
          // Registered before anything could log it; too short a token is refused outright.
          log::register_secret(b.config->token);
          if (b.config->token.size() < 16) {
            const ConfigNode* at = b.node.get("token");
            b.errors.add(at ? at->mark() : b.node.mark(),
                         "metrics 'token' must be at least 16 characters");
          }
        }
        auto config = b.config;
        return FilterFactory(
            [config, metrics] { return std::make_unique<MetricsFilter>(config, metrics); });
      },
  });
}

}  // namespace gemgate::metrics_endpoint
