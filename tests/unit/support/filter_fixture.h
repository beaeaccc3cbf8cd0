// A small gateway for filter tests: the built-in filters in a Registry, the services they need
// (key pool, credentials, a recording LogSink and CredentialUsage), a FakeTransport on a Worker
// that is never started, and helpers to build chains from config and run one request through.
#pragma once

#include <doctest/doctest.h>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/access_log.h"
#include "core/credentials.h"
#include "core/crypto.h"
#include "core/registry.h"
#include "core/resource_map.h"
#include "core/token_meter.h"
#include "filters/builtin.h"
#include "pool/key_pool.h"
#include "tests/unit/support/chain_harness.h"
#include "tests/unit/support/fake_transport.h"

namespace gemgate::testing {

class RecordingSink final : public LogSink {
 public:
  void record_request(const StreamInfo& info) override { requests.push_back(info); }
  void record_attempt_failure(const AttemptFailure& f) override { failures.push_back(f); }
  std::vector<StreamInfo> requests;
  std::vector<AttemptFailure> failures;
};

class RecordingUsage final : public CredentialUsage {
 public:
  void token_used(int64_t id, int64_t) override { ids.push_back(id); }
  std::vector<int64_t> ids;
};

inline Mark mk(int line = 1, int column = 1) {
  return Mark{"test.yaml", line, column};
}

// { key: value, ... } with scalar values.
inline ConfigNode config_map(const std::vector<std::pair<std::string, std::string>>& entries) {
  ConfigNode m = ConfigNode::map(mk());
  int line = 2;
  for (const auto& [k, v] : entries) m.put(k, ConfigNode::scalar(v, mk(line++, 7)));
  return m;
}

// The secret of pool key `id` in these tests.
inline std::string pool_secret(int64_t id) {
  return "AIzaSyPOOLKEY" + std::to_string(id) + "-abcdefghijklmnopqrstuvw";
}

inline const std::string kUpstream = "http://upstream.test";
inline const std::string kClientToken = "gg_client_token_0123456789abcdef";
inline const std::string kGenerate = "/v1beta/models/gemini-2.5-flash:generateContent";
inline const std::string kStream = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";

class GatewayFixture {
 public:
  GatewayFixture() {
    REQUIRE(register_builtin_filters(registry).ok());
    services.put(pool);
    services.put(credentials);
    services.put(meter);
    services.put(resources);
    services.put<LogSink>(sink);
    services.put<CredentialUsage>(usage);
    h.worker.services().put<transport::Transport>(transport);
    add_token(kClientToken, 42);
  }

  // Pool keys 1..n, healthy.
  void add_keys(int n) {
    std::vector<std::pair<std::string, pool::KeyHealth>> list;
    for (int64_t id = 1; id <= n; ++id) {
      pool::KeyHealth health;
      health.id = id;
      list.emplace_back(pool_secret(id), health);
    }
    pool->set_keys(std::move(list));
  }

  // Allows `token` as client token `id` with `policy` (its id is set to `id`).
  void add_token(const std::string& token, int64_t id, TokenPolicy policy = {}) {
    auto set = std::make_shared<CredentialSet>(*credentials->load());
    policy.id = id;
    set->by_hash[crypto::sha256_hex(token)] = std::make_shared<const TokenPolicy>(policy);
    credentials->publish(std::move(set));
  }

  // Builds a chain from (filter, config) pairs; fails the test on config errors.
  std::shared_ptr<const ChainSpec> chain(
      const std::vector<std::pair<std::string, ConfigNode>>& filters) {
    ConfigNode root = ConfigNode::map(mk());
    ConfigNode list = ConfigNode::sequence(mk(2, 3));
    int line = 3;
    for (const auto& [name, config] : filters) {
      ConfigNode item = ConfigNode::map(mk(line++, 5));
      item.put(name, config);
      list.push(item);
    }
    root.put("filters", list);
    ConfigErrors errors;
    auto spec = build_chain("gemini", root, registry, services, errors);
    INFO((errors.lines().empty() ? std::string() : errors.lines().front()));
    REQUIRE(spec);
    return spec;
  }

  // The production chain: log, auth, retry, keys, upstream.
  std::shared_ptr<const ChainSpec> gemini_chain() {
    return chain({{"log", config_map({{"access_log", "false"}})},
                  {"auth", ConfigNode()},
                  {"retry", ConfigNode()},
                  {"keys", ConfigNode()},
                  {"upstream", config_map({{"base_url", kUpstream}})}});
  }

  // A settings snapshot: schema defaults plus `overrides` given as JSON text.
  std::shared_ptr<const Settings> settings(
      const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
    std::unordered_map<std::string, SettingValue> values;
    for (const auto& [name, json] : overrides) {
      auto v = registry.settings_schema().convert_text(name, json);
      INFO((v.ok() ? std::string() : v.error().message));
      REQUIRE(v.ok());
      values.emplace(name, std::move(v).value());
    }
    return std::make_shared<const Settings>(registry.shared_settings_schema(), std::move(values));
  }

  // Runs one POST `path` with the client token in x-goog-api-key (unless `fill` says otherwise)
  // until the exchange ends.
  Exchange& run(std::shared_ptr<const ChainSpec> chain, const std::string& path = kGenerate,
                std::shared_ptr<const Settings> snapshot = nullptr,
                const std::function<void(http::Request&)>& fill = {}) {
    h.downstream = FakeDownstream();
    Exchange& x = h.start_with(
        std::move(chain),
        [&](http::Request& r) {
          r.method = "POST";
          r.path = path;
          r.headers.set("host", "gateway.test");
          r.headers.set("content-type", "application/json");
          r.headers.set("x-goog-api-key", kClientToken);
          r.body = R"({"contents":[{"parts":[{"text":"hi"}]}]})";
          if (fill) fill(r);
        },
        snapshot ? snapshot : settings());
    run_until(h.worker, [&] { return x.finished(); });
    return x;
  }

  // The x-goog-api-key each upstream request carried, in order.
  std::vector<std::string> keys_sent() const {
    std::vector<std::string> out;
    for (const auto& r : transport->requests)
      out.push_back(std::string(r.headers.get_or("x-goog-api-key", "")));
    return out;
  }

  Registry registry;
  Services services;
  std::shared_ptr<pool::KeyPool> pool = std::make_shared<pool::KeyPool>();
  std::shared_ptr<PublishedCredentials> credentials = std::make_shared<PublishedCredentials>();
  std::shared_ptr<TokenMeter> meter = std::make_shared<TokenMeter>();
  std::shared_ptr<ResourceMap> resources = std::make_shared<ResourceMap>();  // memory only
  std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
  std::shared_ptr<RecordingUsage> usage = std::make_shared<RecordingUsage>();
  Harness h;
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>(h.worker);
};

// Gemini error bodies.
inline std::string google_error(int code, const std::string& status, const std::string& message,
                                const std::string& details = "") {
  return "{\"error\":{\"code\":" + std::to_string(code) + ",\"message\":\"" + message +
         "\",\"status\":\"" + status + "\"" +
         (details.empty() ? "" : ",\"details\":[" + details + "]") + "}}";
}
inline std::string key_invalid_body() {
  return google_error(
      400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
      R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"})");
}
inline std::string quota_body(const std::string& delay = "") {
  return google_error(
      429, "RESOURCE_EXHAUSTED", "You exceeded your current quota",
      delay.empty() ? ""
                    : R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":")" +
                          delay + "\"}");
}
inline const std::string kOkBody =
    R"({"candidates":[{"content":{"parts":[{"text":"hello"}],"role":"model"},"finishReason":"STOP"}],)"
    R"("usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1,"totalTokenCount":5}})";

}  // namespace gemgate::testing
