#include "admin/cron_filter.h"

#include <cctype>

#include "admin/health_check.h"
#include "core/crypto.h"
#include "core/exchange.h"
#include "core/log.h"

namespace gemgate::admin {

namespace {

struct CronConfig {
  std::string secret;
  std::string base_url;
};

class CronFilter final : public TerminalFilter {
 public:
  CronFilter(std::shared_ptr<const CronConfig> config, std::shared_ptr<pool::KeyPool> pool)
      : config_(std::move(config)), pool_(std::move(pool)) {}

  Status on_request(TerminalCallbacks& x) override {
    const http::Request& req = x.request();
    if (req.method != "GET" && req.method != "POST") {
      x.reply_local(405, "METHOD_NOT_ALLOWED", "use GET or POST");
      return Status::Stop;
    }
    if (config_->secret.empty()) {
      x.reply_local(401, "UNAUTHENTICATED",
                    "the cron endpoint is disabled: CRON_SECRET is not set");
      return Status::Stop;
    }
    const std::string* auth = req.headers.get("authorization");
    std::string_view presented = auth ? std::string_view(*auth) : std::string_view();
    std::string expected = "Bearer " + config_->secret;
    if (!auth || !crypto::constant_time_equals(crypto::sha256_hex(presented),
                                               crypto::sha256_hex(expected))) {
      x.reply_local(401, "UNAUTHENTICATED", "missing or wrong cron secret");
      return Status::Stop;
    }
    HealthCheckOptions options = health_check_options(x.settings(), config_->base_url);
    run_health_check(x.worker(), pool_, std::move(options),
                     [ref = x.terminal_ref()](HealthCheckResult result) {
                       ref.post([body = result.to_json()](TerminalCallbacks& x) {
                         http::Response& r = x.response();
                         r.status = 200;
                         r.headers.set("content-type", "application/json");
                         r.headers.set("cache-control", "no-store");
                         r.body = body;
                         x.deliver_head();
                       });
                     });
    return Status::Stop;
  }

 private:
  std::shared_ptr<const CronConfig> config_;
  std::shared_ptr<pool::KeyPool> pool_;
};

std::string check_model_name(const rapidjson::Value& v) {
  std::string_view s(v.GetString(), v.GetStringLength());
  if (s.empty() || s.size() > 100) return "must be a model name";
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) {
      return "must be a model name (letters, digits, '-', '.', '_')";
    }
  }
  return "";
}

}  // namespace

Result<void> register_cron_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kHealthCheckModel.with({.description = "Model the health check probes keys with.",
                              .default_json = "\"gemini-2.5-flash-lite\"",
                              .check = &check_model_name}),
      kHealthCheckIntervalS.with(
          {.description = "Run the health check every N seconds, so keys disabled for a reason "
                          "that passed come back without an external cron (0 = only when the "
                          "cron endpoint is called).",
           .default_json = "3600",
           .min = 0,
           .max = 7 * 86400}),
      kHealthCheckConcurrency.with(
          {.description = "Keys probed at the same time by a health check.",
           .default_json = "8",
           .min = 1,
           .max = 64}),
  });
  if (!declared.ok()) return declared;
  return registry.add_filter(FilterDef<CronConfig>{
      .name = "cron_health_check",
      .summary = "runs the key health check for an external scheduler (terminal)",
      .terminal = true,
      .fields = {field::text("secret", &CronConfig::secret),
                 field::base_url("base_url", &CronConfig::base_url)},
      .build = [](const FilterBuild<CronConfig>& b) -> std::optional<FilterFactory> {
        auto pool = b.require<pool::KeyPool>(
            "cron_health_check needs the key pool (internal wiring error)");
        if (!pool) return std::nullopt;
        // A secret written into the YAML itself (not through ${CRON_SECRET}) is a configured
        // secret too: the redactor masks it wherever it shows up, like the environment's.
        if (!b.config->secret.empty()) log::register_secret(b.config->secret);
        return FilterFactory(
            [c = b.config, pool] { return std::make_unique<CronFilter>(c, pool); });
      },
  });
}

}  // namespace gemgate::admin
