#include "admin/admin_services.h"

namespace gemgate::admin {

int64_t LoginThrottle::wait_ms(const std::string& client, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(client);
  if (it == failures_.end()) return 0;
  auto& times = it->second;
  while (!times.empty() && now_ms - times.front() >= kWindowMs) times.pop_front();
  if (times.empty()) {
    failures_.erase(it);
    return 0;
  }
  if (static_cast<int>(times.size()) < kMaxFailures) return 0;
  return kWindowMs - (now_ms - times.front());
}

void LoginThrottle::failed(const std::string& client, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failures_.size() > 100'000) failures_.clear();  // bounded memory under a spray of addresses
  failures_[client].push_back(now_ms);
}

void LoginThrottle::succeeded(const std::string& client) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(client);
}

std::shared_ptr<CredentialSet> make_credential_set(
    const std::vector<storage::ClientToken>& tokens) {
  auto set = std::make_shared<CredentialSet>();
  for (const auto& t : tokens) {
    auto policy = std::make_shared<TokenPolicy>();
    policy->id = t.id;
    policy->models = t.policy.models;
    policy->rpm = t.policy.rpm;
    policy->tpm = t.policy.tpm;
    policy->daily_tokens = t.policy.daily_tokens;
    policy->monthly_tokens = t.policy.monthly_tokens;
    policy->expires_at_ms = t.policy.expires_at;
    policy->key_group = t.policy.key_group;
    policy->enabled = t.policy.enabled;
    set->by_hash.emplace(t.token_sha256, std::move(policy));
  }
  return set;
}

Result<void> republish_credentials(storage::Store& store, PublishedCredentials& credentials) {
  auto tokens = store.list_tokens();
  if (!tokens.ok()) return tokens.error();
  credentials.publish(make_credential_set(*tokens));
  return {};
}

}  // namespace gemgate::admin
