#include "conf/gateway.h"

#include <fstream>
#include <thread>

#include "admin/admin_filter.h"
#include "admin/admin_services.h"
#include "admin/cron_filter.h"
#include "conf/bootstrap.h"
#include "conf/env_check.h"
#include "conf/housekeeping_tasks.h"
#include "conf/main_loop.h"
#include "conf/secrets.h"
#include "conf/storage_sinks.h"
#include "conf/stored_documents.h"
#include "conf/stored_resources.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "core/text.h"
#include "filters/builtin.h"
#include "filters/common/gemini_dialect.h"
#include "filters/upstream/upstream_filter.h"
#include "pool/key_prober.h"
#include "pool/pool_metrics.h"
#include "storage/database_url.h"
#include "storage/open_store.h"
#include "transports/curl_multi_transport.h"

namespace gemgate::conf {

Result<void> register_everything(Registry& registry) {
  // core renders errors in no one API's shape: gemgate's clients are Gemini's, so Google's
  // error body is the dialect of every chain that names none.
  if (auto r = gemini::register_google_error_format(registry); !r.ok()) return r;
  if (auto r = register_builtin_filters(registry); !r.ok()) return r;
  if (auto r = admin::register_cron_filter(registry); !r.ok()) return r;
  if (auto r = admin::register_admin_filter(registry); !r.ok()) return r;
  return registry.settings_schema().declare_all({
      kLogRetentionDays.with({.description = "Request and error log rows older than this many "
                                             "days are deleted (0 = keep forever).",
                              .default_json = "30",
                              .min = 0,
                              .max = 3650}),
      // An age cap alone lets a busy gateway grow the log without bound inside the age;
      // statistics do not need the rows (they come from rollups), so the newest N are plenty.
      kLogMaxRows.with({.description = "At most this many request log rows are kept; the oldest "
                                       "go first (0 = no cap).",
                        .default_json = "1000000",
                        .min = 0,
                        .max = 1'000'000'000}),
  });
}

Services validation_services() {
  Services s;
  s.put(std::make_shared<metrics::Registry>());
  s.put(std::make_shared<metrics::RequestMetrics>());
  s.put(std::make_shared<pool::KeyPool>());
  s.put(std::make_shared<PublishedCredentials>());
  s.put(std::make_shared<TokenMeter>());
  s.put(std::make_shared<ResourceMap>());
  s.put(std::make_shared<admin::AdminServices>());
  return s;
}

Gateway::Gateway()
    : settings_(std::make_shared<Published<Settings>>()), main_(std::make_unique<MainLoop>()) {}

Gateway::~Gateway() {
  for (auto& w : workers_) w->join();
}

Result<void> Gateway::load_state() {
  // Everything below runs before any worker starts, on this thread, through the storage thread.
  Result<void> result;
  std::vector<storage::Key> keys;
  std::vector<storage::ClientToken> tokens;
  std::map<std::string, std::string> stored_settings;
  storage_->submit([&](storage::Store& store) {
    auto k = store.load_keys();
    auto t = store.list_tokens();
    auto s = store.load_settings();
    if (!k.ok())
      result = k.error();
    else if (!t.ok())
      result = t.error();
    else if (!s.ok())
      result = s.error();
    else if (auto u = TokenUsageSync::run(*meter_, store, now_unix_ms()); !u.ok())
      result = u.error();  // quotas must not restart from zero
    else {
      keys = std::move(k).value();
      tokens = std::move(t).value();
      stored_settings = std::move(s).value();
      loaded_settings_ = stored_settings;
    }
  });
  if (auto f = storage_->flush(); !f.ok()) return f;
  if (!result.ok()) return result;

  std::vector<pool::KeyPool::KeySeed> pool_keys;
  for (storage::Key& k : keys) {
    log::register_secret(k.secret);
    if (!k.policy.proxy.empty()) {  // a proxy URL may carry a password: never in a log line
      log::register_secret(k.policy.proxy);
      log::register_secret(text::url_password(k.policy.proxy));
    }
    pool::KeyHealth h = from_stored(k.health);
    h.id = k.id;
    h.created_ms = k.created_at;
    pool_keys.push_back({std::move(k.secret), std::move(h), from_stored(k.policy)});
  }
  pool_->set_keys_and_policies(std::move(pool_keys));

  credentials_->publish(admin::make_credential_set(tokens));

  std::unordered_map<std::string, SettingValue> overrides;
  for (const auto& [name, json] : stored_settings) {
    auto value = schema_->convert_text(name, json);
    if (value.ok()) {
      overrides.emplace(name, std::move(value).value());
    } else {
      log::warn("ignoring stored setting: " + value.error().message);
    }
  }
  settings_->publish(std::make_shared<const Settings>(schema_, std::move(overrides)));
  size_t disabled = 0;
  const auto key_list = pool_->keys();  // held: a range-for over *temporary dangles
  for (const auto& k : *key_list) disabled += k->disabled() ? 1 : 0;
  log::info("loaded " + std::to_string(pool_->size()) + " API key(s) (" + std::to_string(disabled) +
            " disabled) and " + std::to_string(tokens.size()) + " client token(s)");
  if (pool_->size() == 0) {
    log::warn(
        "no API keys yet: start with API_KEYS set to your Gemini keys, comma separated (or add "
        "them with POST /admin/api/keys)");
  }
  if (tokens.empty()) {
    log::warn(
        "no client tokens yet: start with ALLOWED_TOKENS set to one or more tokens of 8 to 256 "
        "characters, comma separated (or create one with POST /admin/api/tokens); until then "
        "every call is refused");
  }
  return {};
}

Result<void> Gateway::open_storage(const EnvLookup& env) {
  storage::MasterKeyOptions master_key;
  master_key.env_value = env("GEMGATE_MASTER_KEY");
  if (master_key.env_value && !master_key.env_value->empty()) {
    log::register_secret(*master_key.env_value);  // never printed, even by mistake
  }
  master_key.file = config_.master_key_file;
  auto store = storage::open_store(config_.database_url, master_key);
  if (!store.ok()) return Error::unavailable("storage: " + store.error().message);
  auto boot = bootstrap_from_env(**store, env);
  if (!boot.ok()) return Error::unavailable("bootstrap: " + boot.error().message);
  if (boot->keys_added || boot->tokens_added) {
    log::info("bootstrap: added " + std::to_string(boot->keys_added) + " key(s) and " +
              std::to_string(boot->tokens_added) + " client token(s) from the environment");
  }
  storage_ = std::make_unique<storage::StorageThread>(std::move(store).value());
  document_mac_secret_ = document_mac_secret(master_key, config_.database_url);
  return {};
}

Result<void> Gateway::start_group_sync(std::map<std::string, std::string> stored_settings) {
  auto feed = storage::open_change_feed(config_.database_url);
  if (!feed.ok()) return Error::unavailable("change feed: " + feed.error().message);
  if (!*feed) return {};  // an in-memory database: no other gateway can share it
  feed_ = std::move(feed).value();
  group_ = std::make_unique<GroupSync>(
      GroupSync::Targets{storage_.get(), pool_, credentials_, settings_},
      std::move(stored_settings));
  GroupSync* group = group_.get();
  if (auto r = feed_->start([group](storage::ChangeTopic topic) { group->on_change(topic); });
      !r.ok()) {
    return Error::unavailable("change feed: " + r.error().message);
  }
  log::info("instance " + instance_id_ +
            ": changes by other gateways on this database apply here "
            "(full re-read every " +
            std::to_string(kGroupResyncEveryMs / 1000) + " s)");
  return {};
}

void Gateway::build_services() {
  auto admin_services = std::make_shared<admin::AdminServices>();
  admin_services->storage = storage_.get();
  admin_services->pool = pool_;
  admin_services->credentials = credentials_;
  admin_services->settings = settings_;
  admin_services->upstream_base_url = upstream_base_url_;
  admin_services->reload = [this](std::function<void(admin::ReloadReport)> done) {
    main_->loop.post([this, done = std::move(done)] { done(reload()); });
  };
  services_.put(admin_services);
  services_.put(pool_);
  services_.put(credentials_);
  services_.put(meter_);
  admin_services->meter = meter_;
  usage_sync_ = std::make_unique<TokenUsageSync>(meter_, *storage_);
  services_.put<LogSink>(std::make_shared<StorageLogSink>(*storage_, logged_instance_id_));
  services_.put<CredentialUsage>(std::make_shared<StorageCredentialUsage>(*storage_));
  services_.put<DocumentStore>(
      std::make_shared<StorageDocumentStore>(*storage_, document_mac_secret_));
  resources_ = make_stored_resource_map(*storage_, feed_ != nullptr);
  services_.put(resources_);
  services_.put(metrics_);
  services_.put(request_metrics_);
}

Result<void> Gateway::start_workers(int count) {
  for (int i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(i);
    // Keep idle upstream connections around: libcurl's default cache (4 x the transfers in
    // flight) shrinks whenever load dips and then closes connections it will need a moment later.
    transport::CurlMultiTransport::Options transport_options;
    transport_options.max_cached_connections = 512;
    transport_options.environment_proxy = environment_proxy_;
    transport_options.ca_file = upstream_ca_file_;
    transport_options.session_counters = session_counters_;
    auto transport = transport::CurlMultiTransport::create(worker->loop(), transport_options);
    if (!transport.ok()) return transport.error();
    std::shared_ptr<transport::Transport> shared(std::move(transport).value());
    worker->services().put<transport::Transport>(shared);
    std::vector<std::unique_ptr<server::Server>> servers;
    for (auto& ctx : contexts_) servers.push_back(std::make_unique<server::Server>(*worker, *ctx));
    for (size_t li = 0; li < config_.listeners.size(); ++li) {
      ListenerConfig& l = config_.listeners[li];
      auto port = servers[listener_context_[li]]->listen(l.host, l.port, i == 0);
      if (!port.ok()) return port.error();
      l.port = *port;  // later workers bind the port the first one got (port 0 = any)
    }
    workers_.push_back(std::move(worker));
    servers_.push_back(std::move(servers));
  }
  for (auto& w : workers_) w->start({});
  return {};
}

namespace {

// Says once at start where upstream calls go: the upstream_proxy setting, the environment's
// proxy, or direct. Credentials in a proxy URL are masked.
void log_upstream_proxy(const Settings& settings, const transport::ProxyEnvironment& env_proxy) {
  const std::string& configured = settings.get(upstream::kProxy);
  if (!configured.empty()) {
    log::info("upstream proxy: " + transport::mask_proxy_credentials(configured) +
              " (the upstream_proxy setting; HTTPS_PROXY/HTTP_PROXY/NO_PROXY are not used)");
  } else if (!env_proxy.empty()) {
    log::info("upstream proxy from the environment (upstream_proxy is empty): " +
              env_proxy.describe());
  }
}

}  // namespace

Result<void> Gateway::start(GatewayConfig config, Registry& registry, const EnvLookup& env,
                            ConfigSource source) {
  config_ = std::move(config);
  env_ = env;
  source_ = std::move(source);
  configured_listeners_ = config_.listeners;
  gemini::register_gemini_redaction();  // what a Gemini key looks like, before any line has one
  register_configured_secrets(env, config_.database_url);
  registry_ = &registry;
  schema_ = registry.shared_settings_schema();
  if (const ConfigNode* base = config_.root.get("upstream_base_url"))
    upstream_base_url_ = base->text();
  // Everything the environment says is checked before anything is stored: a start that fails
  // here leaves the database as it was.
  if (auto problems = environment_problems(env, *schema_); !problems.empty()) {
    std::string all;
    for (const std::string& p : problems) all += "\n  " + p;
    return Error::invalid("environment (nothing was stored):" + all);
  }
  instance_id_ = instance_id_from(env("GEMGATE_INSTANCE_ID"));
  logged_instance_id_ = named_instance_id(env("GEMGATE_INSTANCE_ID"));
  // PostgreSQL is the store of a group: an unnamed gateway there still tells its rows apart from
  // the others' by "<hostname>-<pid>". Only an unnamed one on SQLite stores '' (no entry in the
  // instance index for a gateway alone).
  auto database = storage::parse_database_url(config_.database_url);
  if (logged_instance_id_.empty() && database.ok() &&
      database->kind == storage::DatabaseKind::kPostgres) {
    logged_instance_id_ = instance_id_;
  }
  if (auto r = open_storage(env); !r.ok()) return r;
  pool_ = std::make_shared<pool::KeyPool>();
  credentials_ = std::make_shared<PublishedCredentials>();
  if (auto r = load_state(); !r.ok()) return r;
  if (auto r = ensure_admin_token(env); !r.ok()) return r;
  if (auto r = start_group_sync(std::move(loaded_settings_)); !r.ok()) return r;

  build_services();
  ConfigErrors errors;
  AllRoutes all_routes = build_all_routes(config_.root, registry, services_, errors);
  auto routes = all_routes.main;
  if (!routes) {
    std::string all;
    for (const std::string& line : errors.lines()) all += "\n  " + line;
    return Error::invalid("configuration:" + all);
  }
  // One server context for the top-level routes, one per listener with routes of its own.
  auto add_context = [&](std::shared_ptr<const RouteTable> table) {
    auto ctx = std::make_unique<server::ServerContext>();
    ctx->limits.publish(std::make_shared<const server::ServerLimits>(config_.limits));
    ctx->routes.publish(std::move(table));
    ctx->settings = settings_.get();
    contexts_.push_back(std::move(ctx));
    return contexts_.size() - 1;
  };
  size_t main_context = add_context(routes);
  for (size_t i = 0; i < config_.listeners.size(); ++i) {
    auto own = i < all_routes.per_listener.size() ? all_routes.per_listener[i] : nullptr;
    listener_context_.push_back(own ? add_context(own) : main_context);
  }
  register_metric_collectors();
  environment_proxy_ = transport::read_proxy_environment(env);
  log_upstream_proxy(*settings_->load(), environment_proxy_);
  upstream_ca_file_ = env("GEMGATE_UPSTREAM_CA_FILE").value_or("");
  if (!upstream_ca_file_.empty()) {
    if (!std::ifstream(upstream_ca_file_).good()) {
      return Error::invalid("GEMGATE_UPSTREAM_CA_FILE: cannot read " + upstream_ca_file_);
    }
    log::info("https upstreams are verified against the CAs in " + upstream_ca_file_ +
              " (GEMGATE_UPSTREAM_CA_FILE), not the system's bundle");
  }

  if (auto r = transport::global_init(); !r.ok()) return r;
  int count =
      config_.workers > 0 ? config_.workers : std::max(1u, std::thread::hardware_concurrency());
  if (auto r = start_workers(count); !r.ok()) return r;
  // Before "listening on" is printed: whoever waits for that line may signal at once (a
  // SIGHUP before the watcher exists is ignored, see main.cpp, and a reload would be lost).
  watch_signals();
  const ListenerConfig& first = config_.listeners.front();
  for (const ListenerConfig& l : config_.listeners) {
    std::string host = l.host.find(':') != std::string::npos ? "[" + l.host + "]" : l.host;
    log::info("listening on http://" + host + ":" + std::to_string(l.port) + " (" +
              std::to_string(count) + " worker(s))");
  }
  if (routes->match("/admin")) {
    std::string host = first.host == "0.0.0.0" ? "127.0.0.1" : first.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    log::info("admin dashboard: http://" + host + ":" + std::to_string(first.port) + "/admin");
  }
  start_housekeeping();
  return {};
}

void Gateway::register_metric_collectors() {
  auto sum = [this](auto field) {
    return [this, field]() -> int64_t {
      int64_t n = 0;
      for (const auto& ctx : contexts_) n += static_cast<int64_t>((ctx.get()->*field).load());
      return n;
    };
  };
  request_metrics_->set_gauges({
      .open_connections = sum(&server::ServerContext::open_connections),
      .open_streams = sum(&server::ServerContext::open_streams),
      .buffered_request_bytes = sum(&server::ServerContext::buffered_body_bytes),
      .rejected =
          [this](size_t cls) {
            uint64_t n = 0;
            for (const auto& ctx : contexts_) n += ctx->rejected[cls].load();
            return n;
          },
  });
  metrics_->add([m = request_metrics_](metrics::Writer& w) { m->collect(w); });
  metrics_->add([pool = pool_](metrics::Writer& w) { pool::collect_pool_metrics(*pool, w); });
  metrics_->add([this](metrics::Writer& w) { collect_storage_metrics(*storage_, w); });
  metrics_->add([c = session_counters_](metrics::Writer& w) {
    w.family("gemgate_upstream_resent_total", "counter",
             "Upstream requests sent once more on a new connection, same key, because their "
             "HTTP/2 session was lost or refused them before any answer byte.");
    w.sample("gemgate_upstream_resent_total", {}, c->resent.load(std::memory_order_relaxed));
    w.family("gemgate_upstream_silent_sessions_ended_total", "counter",
             "Upstream HTTP/2 connections ended because nothing arrived on them for half the "
             "first-byte deadline while a request waited the whole of it.");
    w.sample("gemgate_upstream_silent_sessions_ended_total", {},
             c->silent_sessions_ended.load(std::memory_order_relaxed));
  });
  metrics_->add([this](metrics::Writer& w) {
    const metrics::Label instance[] = {{"instance_id", instance_id_}};
    w.family("gemgate_instance_info", "gauge", "This gateway's name in a group (always 1).");
    w.sample("gemgate_instance_info", instance, uint64_t{1});
    if (!group_) return;
    w.family("gemgate_group_resyncs_total", "counter",
             "Re-reads of shared state changed by other gateways of the group (or the 5 s net).");
    w.sample("gemgate_group_resyncs_total", {}, group_->resyncs());
  });
}

Result<void> Gateway::ensure_admin_token(const EnvLookup& env) {
  auto current = settings_->load();
  std::optional<std::string> from_env = env("AUTH_TOKEN");
  if (from_env && from_env->empty()) from_env.reset();
  if (!current->get(admin::kAdminToken).empty()) {
    if (from_env && !crypto::constant_time_equals(crypto::sha256_hex(*from_env),
                                                  current->get(admin::kAdminToken))) {
      log::warn(
          "AUTH_TOKEN differs from the stored admin token and is ignored; change the token with "
          "PATCH /admin/api/settings {\"admin_token\": ...}");
    }
    return {};
  }
  std::string token;
  if (from_env) {
    rapidjson::Value v(from_env->c_str(), static_cast<rapidjson::SizeType>(from_env->size()));
    if (auto checked = schema_->convert(admin::kAdminToken.name(), v); !checked.ok()) {
      return Error::invalid("AUTH_TOKEN " +
                            checked.error().message.substr(admin::kAdminToken.name().size()));
    }
    token = *from_env;
  } else {
    token = crypto::random_token("gga-", 24);
  }
  std::string hash = crypto::sha256_hex(token);
  Result<void> saved;
  storage_->submit([&](storage::Store& store) {
    storage::SettingsBatch batch;
    batch.set[std::string(admin::kAdminToken.name())] = json_quote(hash);
    batch.updated_at = now_unix_ms();
    saved = store.save_settings(batch);
  });
  if (auto f = storage_->flush(); !f.ok()) return f;
  if (!saved.ok()) return saved;
  loaded_settings_[std::string(admin::kAdminToken.name())] = json_quote(hash);  // as stored
  auto overrides = current->overrides();
  overrides[std::string(admin::kAdminToken.name())] = SettingValue(hash);
  settings_->publish(std::make_shared<const Settings>(schema_, std::move(overrides)));
  if (from_env) {
    log::info("admin token set from AUTH_TOKEN");
  } else {
    log::register_secret(token);
    log::write_unredacted(
        log::Level::kWarn,
        "no admin token was configured; generated one (shown only this once): " + token);
  }
  return {};
}

}  // namespace gemgate::conf
