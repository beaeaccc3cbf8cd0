// AdminServices: what the admin API works with — storage, the live key pool, the published
// client credentials and settings — put into Services by the composition root. Also the login
// throttle, shared by every worker.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config_node.h"
#include "core/credentials.h"
#include "core/log.h"
#include "core/settings.h"
#include "core/snapshot.h"
#include "core/token_meter.h"
#include "pool/key_pool.h"
#include "storage/storage_thread.h"

namespace gemgate::admin {

// Wrong admin credentials per client address — failed logins and wrong `Authorization: Bearer`
// tokens alike, one budget: at most `kMaxFailures` in `kWindowMs`, then 429 for every credential
// that address presents (the right one too) until the oldest failure leaves the window.
class LoginThrottle {
 public:
  static constexpr int kMaxFailures = 10;
  static constexpr int64_t kWindowMs = 60'000;

  // Returns 0 when `client` may try now, else milliseconds until it may. Thread-safe.
  int64_t wait_ms(const std::string& client, int64_t now_ms);
  // Records a failed attempt. Thread-safe.
  void failed(const std::string& client, int64_t now_ms);
  // Forgets the client's failures after a successful login. Thread-safe.
  void succeeded(const std::string& client);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<int64_t>> failures_;
};

// What one configuration reload did (POST /admin/api/reload answers it as JSON).
struct ReloadReport {
  bool ok = false;                            // the re-read configuration is in force
  std::vector<ConfigError> errors;            // why it is not (the old one keeps running)
  std::vector<std::string> restart_required;  // changed parts that keep their old value
};

// Reloads the configuration on the composition root's thread and then calls `done` there (not
// on the caller's loop) with the report. Thread-safe; set by conf/, which owns the config.
using ReloadFunction = std::function<void(std::function<void(ReloadReport)> done)>;

struct AdminServices {
  storage::StorageThread* storage = nullptr;
  std::shared_ptr<pool::KeyPool> pool;
  std::shared_ptr<PublishedCredentials> credentials;
  std::shared_ptr<Published<Settings>> settings;
  std::shared_ptr<TokenMeter> meter;  // per-token usage (GET /admin/api/tokens); may be null
  std::string upstream_base_url;
  ReloadFunction reload;  // empty: POST /admin/api/reload answers 501
  LoginThrottle throttle;
  // The log line about refused admin credentials: one per address per 10 s, with a count.
  log::LineLimiter refused_log{10'000, 4096};
};

// The credential set of `tokens`: each token's hash mapped to its policy.
std::shared_ptr<CredentialSet> make_credential_set(const std::vector<storage::ClientToken>& tokens);

// Rebuilds the published credential set from the stored tokens. Storage thread (inside a job).
Result<void> republish_credentials(storage::Store& store, PublishedCredentials& credentials);

}  // namespace gemgate::admin
