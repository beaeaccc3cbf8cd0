#include "conf/group_sync.h"

#include <set>
#include <unistd.h>

#include "admin/admin_services.h"
#include "conf/storage_sinks.h"
#include "core/log.h"
#include "core/text.h"

namespace gemgate::conf {

namespace {

unsigned topic_bit(storage::ChangeTopic topic) {
  return 1u << static_cast<unsigned>(topic);
}

bool has(unsigned mask, storage::ChangeTopic topic) {
  return (mask & (topic_bit(topic) | topic_bit(storage::ChangeTopic::kAll))) != 0;
}

}  // namespace

GroupSync::GroupSync(Targets targets, std::map<std::string, std::string> stored_settings)
    : t_(std::move(targets)), last_settings_(std::move(stored_settings)) {}

void GroupSync::on_change(storage::ChangeTopic topic) {
  if (pending_.fetch_or(topic_bit(topic)) != 0) return;  // a queued job will see this topic too
  t_.storage->submit([this](storage::Store& store) {
    // Taken when the job starts: a change committed after this point queues the next job.
    resync(store, pending_.exchange(0));
  });
}

void GroupSync::resync(storage::Store& store, unsigned mask) {
  if (mask == 0) return;
  resyncs_.fetch_add(1, std::memory_order_relaxed);
  failed_this_time_ = false;
  using storage::ChangeTopic;
  if (has(mask, ChangeTopic::kKeys) || has(mask, ChangeTopic::kKeyHealth)) {
    resync_keys(store, has(mask, ChangeTopic::kKeys));
  }
  if (has(mask, ChangeTopic::kTokens)) {
    if (auto r = admin::republish_credentials(store, *t_.credentials); !r.ok()) {
      warn_failure("group: cannot re-read the client tokens: " + r.error().message);
    }
  }
  if (has(mask, ChangeTopic::kSettings)) resync_settings(store);
  // kSessions: sessions are looked up in the Store per request; nothing is cached here.
  if (failing_ && !failed_this_time_) log::info("group: shared state re-read again");
  failing_ = failed_this_time_;
}

void GroupSync::warn_failure(const std::string& message) {
  if (!failing_ && !failed_this_time_) log::warn(message + " (retried; said once until it works)");
  failed_this_time_ = true;
}

void GroupSync::resync_keys(storage::Store& store, bool keys_changed) {
  auto rows = store.load_key_health();
  if (!rows.ok()) {
    warn_failure("group: cannot re-read key health: " + rows.error().message);
    return;
  }
  std::set<int64_t> stored_ids, live_ids;
  for (const storage::KeyHealthRow& r : *rows) stored_ids.insert(r.key_id);
  const auto live = t_.pool->keys();
  for (const auto& k : *live) live_ids.insert(k->id());
  if (keys_changed || stored_ids != live_ids) {
    // Keys were added, deleted or edited (policy: weight, group, limits, proxy) elsewhere: the
    // whole rows are needed. set_keys_and_policies keeps the live health of the keys that stay;
    // health alone (the frequent case) takes the cheap path below.
    auto keys = store.load_keys();
    if (!keys.ok()) {
      warn_failure("group: cannot re-read the keys: " + keys.error().message);
      return;
    }
    std::vector<pool::KeyPool::KeySeed> seeds;
    for (storage::Key& k : *keys) {
      log::register_secret(k.secret);
      if (!k.policy.proxy.empty()) {  // a proxy URL may carry a password: never in a log line
        log::register_secret(k.policy.proxy);
        log::register_secret(text::url_password(k.policy.proxy));
      }
      pool::KeyHealth h = from_stored(k.health);
      h.id = k.id;
      h.created_ms = k.created_at;
      seeds.push_back({std::move(k.secret), std::move(h), from_stored(k.policy)});
    }
    size_t added = 0, removed = 0;
    for (int64_t id : stored_ids) added += live_ids.count(id) ? 0 : 1;
    for (const auto& k : *live) {
      if (stored_ids.count(k->id())) continue;
      ++removed;
      log::forget_secret(k->secret());
    }
    t_.pool->set_keys_and_policies(std::move(seeds));
    if (added + removed > 0) {
      log::info("group: keys changed elsewhere: " + std::to_string(added) + " added, " +
                std::to_string(removed) + " deleted; " + std::to_string(t_.pool->size()) +
                " in the pool");
    }
  }
  std::vector<pool::KeyHealth> shared;
  shared.reserve(rows->size());
  for (const storage::KeyHealthRow& r : *rows) shared.push_back(from_stored(r));
  t_.pool->merge_shared_health(shared, now_unix_ms());
}

void GroupSync::resync_settings(storage::Store& store) {
  auto stored = store.load_settings();
  if (!stored.ok()) {
    warn_failure("group: cannot re-read the settings: " + stored.error().message);
    return;
  }
  if (*stored == last_settings_) return;
  auto current = t_.settings->load();
  std::unordered_map<std::string, SettingValue> overrides;
  std::string names;
  for (const auto& [name, json] : *stored) {
    auto value = current->shared_schema()->convert_text(name, json);
    if (!value.ok()) {
      log::warn("group: ignoring stored setting: " + value.error().message);
      continue;
    }
    overrides.emplace(name, std::move(value).value());
    auto was = last_settings_.find(name);
    if (was == last_settings_.end() || was->second != json)
      names += (names.empty() ? "" : ", ") + name;
  }
  for (const auto& [name, json] : last_settings_) {
    if (!stored->count(name)) names += (names.empty() ? "" : ", ") + name + " (reset)";
  }
  t_.settings->publish(
      std::make_shared<const Settings>(current->shared_schema(), std::move(overrides)));
  last_settings_ = std::move(stored).value();
  log::info("group: settings re-read: " + names);
}

std::string named_instance_id(const std::optional<std::string>& env_value) {
  std::string id;
  if (env_value) {
    for (char c : *env_value) {
      if (c > ' ' && c < 0x7f && id.size() < 64) id += c;
    }
  }
  return id;
}

std::string instance_id_from(const std::optional<std::string>& env_value) {
  std::string id = named_instance_id(env_value);
  if (!id.empty()) return id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "gemgate");
  return std::string(host) + "-" + std::to_string(getpid());
}

}  // namespace gemgate::conf
