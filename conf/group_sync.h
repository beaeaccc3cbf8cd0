// GroupSync: makes this gateway one of a group sharing a database. A ChangeFeed (or the periodic
// safety net) says a topic changed; GroupSync queues one re-read job on the StorageThread that
// reads the topic back and republishes the live snapshots: key ids and key health into the pool
// (merged, never undoing health learned here and not yet written behind), client tokens into the
// credential set, stored settings (the admin token among them) into the live settings. Admin
// sessions need nothing: they are looked up in the Store on every request.
//
// Thread rules: on_change() may be called from any thread (the feed's); the re-reads run on the
// storage thread, one at a time; notifications arriving while one is queued are folded into it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/credentials.h"
#include "core/settings.h"
#include "core/snapshot.h"
#include "pool/key_pool.h"
#include "storage/change_feed.h"
#include "storage/storage_thread.h"

namespace gemgate::conf {

// How often every gateway re-reads every topic even without a notification (the safety net
// for a lost notification or a feed that is down). A constant: 5 s bounds how stale a missed
// change can stay, at the cost of a few small queries per instance.
inline constexpr int64_t kGroupResyncEveryMs = 5'000;

class GroupSync {
 public:
  struct Targets {
    storage::StorageThread* storage = nullptr;
    std::shared_ptr<pool::KeyPool> pool;
    std::shared_ptr<PublishedCredentials> credentials;
    std::shared_ptr<Published<Settings>> settings;
  };

  // `stored_settings` is the settings map read at start (what is already published).
  GroupSync(Targets targets, std::map<std::string, std::string> stored_settings);

  // Something changed in `topic`: queues a re-read unless one is already waiting. Thread-safe.
  void on_change(storage::ChangeTopic topic);

  // Re-reads run so far (for /metrics and tests). Thread-safe.
  uint64_t resyncs() const { return resyncs_.load(std::memory_order_relaxed); }

 private:
  // On the storage thread: re-reads the topics in `mask` and republishes.
  void resync(storage::Store& store, unsigned mask);
  // Key health always; the whole key rows (secrets, policies) too when `keys_changed` (topic
  // keys or all) or the set of ids differs from the pool's.
  void resync_keys(storage::Store& store, bool keys_changed);
  void resync_settings(storage::Store& store);
  // Logs the first failure of a run of failed re-reads (the database is down: every 5 s would
  // repeat it); the recovery is logged once too.
  void warn_failure(const std::string& message);

  Targets t_;
  std::atomic<unsigned> pending_{0};  // topics waiting for the queued job (bit per topic)
  std::map<std::string, std::string> last_settings_;  // storage thread only
  std::atomic<uint64_t> resyncs_{0};
  bool failing_ = false;           // storage thread only: the last re-read failed
  bool failed_this_time_ = false;  // storage thread only: the current one did
};

// The name an operator gave this gateway: GEMGATE_INSTANCE_ID clipped to 64 printable
// characters, or "" when it is unset or holds none. Stored on every request and error log row:
// a named gateway is one of a group, whose rows the admin log filter `instance=` tells apart;
// an unnamed one's rows carry "" and cost no entry in the instance index (schema v12).
std::string named_instance_id(const std::optional<std::string>& env_value);

// This gateway's name in its own lines and metrics: named_instance_id() when there is one, else
// "<hostname>-<pid>".
std::string instance_id_from(const std::optional<std::string>& env_value);

}  // namespace gemgate::conf
