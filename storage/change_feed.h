// ChangeFeed: tells one gateway that shared state was changed in its database by someone else —
// another gateway of the same group, or an admin write this process made through another path.
// It is how a group of gateways sharing one database behaves as one: every instance re-reads
// what a topic names and republishes its snapshots.
//
// A feed only says *that* something changed, never what: the receiver re-reads the whole topic
// from the Store (on the storage thread). Notifications may be coalesced, repeated or arrive for
// changes this process made itself; receivers must treat them as idempotent hints. A feed can
// also lose notifications (the connection to the database dropped): it then reports kAll once it
// is back, so the receiver re-reads everything. Receivers still re-read everything periodically
// as a safety net; a feed makes changes visible sooner, it is never the only path.
//
// Backends:
//   PostgreSQL: the Store's writes send `NOTIFY gemgate_changes, '<topic>'` inside the same
//     transaction as the change (so a notification is never seen before the change is visible);
//     the feed LISTENs on its own connection and reconnects on its own.
//   SQLite: several processes may share one database file; the feed polls `PRAGMA data_version`
//     on its own read-only connection and reports kAll when another connection committed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "core/result.h"

namespace gemgate::storage {

// What to re-read. The NOTIFY payload is the topic's name (change_topic_name()).
enum class ChangeTopic {
  kKeys,       // pool keys added, deleted, enabled/disabled by an admin ("keys")
  kKeyHealth,  // key health written behind: disabled by a check, cooldowns ("key_health")
  kTokens,     // client tokens added, deleted or edited ("tokens")
  kSettings,   // live settings, the admin token ("settings")
  kSessions,   // admin sessions ended: logout, admin token changed ("sessions")
  kAll,        // anything: re-read every topic (after a reconnect, or when the backend cannot
               // tell which topic changed)
};

// "keys", "key_health", "tokens", "settings", "sessions", "all".
std::string_view change_topic_name(ChangeTopic topic);
// The topic named `name`, or nullopt for a name this build does not know (a newer instance of
// the group may send topics an older one ignores).
std::optional<ChangeTopic> change_topic_from_name(std::string_view name);

class ChangeFeed {
 public:
  // Called for each change, from the feed's own thread. Must not block for long and must not
  // call back into the feed; typically it queues a re-read job on the StorageThread.
  using Listener = std::function<void(ChangeTopic)>;

  // Stops the feed (as stop()).
  virtual ~ChangeFeed() = default;

  // Starts watching in the feed's own thread and calls `listener` for each change until stop().
  // Called once. Errors only for what cannot work at all (bad configuration); a database that is
  // down at start is retried in the background, not an error.
  virtual Result<void> start(Listener listener) = 0;

  // Stops watching and joins the feed's thread; no listener call runs after it returns.
  // Idempotent. Must not be called from inside the listener.
  virtual void stop() = 0;
};

}  // namespace gemgate::storage
