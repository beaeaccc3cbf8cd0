// KeyPool: replacing, adding and removing keys and their policies. Every change publishes a new
// immutable key list together with its weighted schedule (key_schedule.h), so picks never lock.
#include <algorithm>

#include "pool/key_pool.h"

namespace gemgate::pool {

void KeyPool::publish_list_locked(std::shared_ptr<KeyList> next) {
  std::vector<int> weights;
  std::vector<std::string> groups;
  weights.reserve(next->size());
  groups.reserve(next->size());
  for (const auto& key : *next) {
    auto policy = key->policy();
    weights.push_back(std::clamp(policy->weight, kMinWeight, kMaxWeight));
    groups.push_back(policy->group);
  }
  auto previous = selection_.load();
  auto schedule = build_schedule(weights, groups, previous->schedule.get());
  selection_.publish(std::make_shared<const Selection>(Selection{std::move(next), schedule}));
}

namespace {

// The live key of `id` with this secret in `current`, or null.
std::shared_ptr<PoolKey> kept_key(const KeyList& current, int64_t id, const std::string& secret) {
  auto it =
      std::find_if(current.begin(), current.end(), [id](const auto& k) { return k->id() == id; });
  return it != current.end() && (*it)->secret() == secret ? *it : nullptr;
}

}  // namespace

void KeyPool::set_keys_and_policies(std::vector<KeySeed> seeds) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto current = keys();
  auto next = std::make_shared<KeyList>();
  next->reserve(seeds.size());
  for (auto& seed : seeds) {
    int64_t id = seed.health.id;
    if (auto kept = kept_key(*current, id, seed.secret)) {
      if (!(*kept->policy() == seed.policy)) {
        kept->policy_.publish(std::make_shared<const KeyPolicy>(seed.policy));
        kept->rpm_.store(seed.policy.rpm);
        kept->tpm_.store(seed.policy.tpm);
      }
      next->push_back(std::move(kept));
    } else {
      next->push_back(std::make_shared<PoolKey>(id, std::move(seed.secret), std::move(seed.health),
                                                std::move(seed.policy)));
    }
  }
  publish_list_locked(std::move(next));
}

void KeyPool::set_keys(std::vector<std::pair<std::string, KeyHealth>> secrets_with_health) {
  std::vector<KeySeed> seeds;
  seeds.reserve(secrets_with_health.size());
  auto current = keys();
  for (auto& [secret, health] : secrets_with_health) {
    KeySeed seed{std::move(secret), std::move(health), {}};
    if (auto kept = kept_key(*current, seed.health.id, seed.secret)) seed.policy = *kept->policy();
    seeds.push_back(std::move(seed));
  }
  set_keys_and_policies(std::move(seeds));
}

void KeyPool::add_key(std::string secret, KeyHealth health, KeyPolicy policy) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto current = keys();
  for (const auto& k : *current) {
    if (k->id() == health.id) return;
  }
  auto next = std::make_shared<KeyList>(*current);
  int64_t id = health.id;
  next->push_back(
      std::make_shared<PoolKey>(id, std::move(secret), std::move(health), std::move(policy)));
  publish_list_locked(std::move(next));
}

bool KeyPool::set_policy(int64_t id, KeyPolicy policy) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto current = keys();
  auto it =
      std::find_if(current->begin(), current->end(), [id](const auto& k) { return k->id() == id; });
  if (it == current->end()) return false;
  PoolKey& key = **it;
  auto before = key.policy();
  const bool reorder = before->weight != policy.weight || before->group != policy.group;
  key.rpm_.store(policy.rpm);
  key.tpm_.store(policy.tpm);
  key.policy_.publish(std::make_shared<const KeyPolicy>(std::move(policy)));
  if (reorder) publish_list_locked(std::make_shared<KeyList>(*current));
  return true;
}

bool KeyPool::remove_key(int64_t id) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto current = keys();
  auto next = std::make_shared<KeyList>();
  next->reserve(current->size());
  bool found = false;
  for (const auto& k : *current) {
    if (k->id() == id) {
      found = true;
    } else {
      next->push_back(k);
    }
  }
  if (found) publish_list_locked(std::move(next));
  return found;
}

}  // namespace gemgate::pool
