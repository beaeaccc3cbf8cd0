#include "storage/sqlite/sqlite_change_feed.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "core/log.h"

namespace gemgate::storage {

SqliteChangeFeed::SqliteChangeFeed(std::string path, std::chrono::milliseconds poll)
    : path_(std::move(path)), poll_(poll) {}

SqliteChangeFeed::~SqliteChangeFeed() {
  stop();
}

Result<void> SqliteChangeFeed::start(Listener listener) {
  if (!listener) return Error::invalid("change feed: no listener");
  if (thread_.joinable()) return Error::invalid("change feed: already started");
  thread_ = std::thread([this, listener = std::move(listener)] { run(listener); });
  return {};
}

void SqliteChangeFeed::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

namespace {

// The version of each topic (schema v13: raised by triggers in the changing transaction), or
// nullopt while the file has no such table yet (another gateway is still migrating it).
std::optional<std::map<std::string, std::int64_t>> read_versions(SQLite::Database& db) {
  SQLite::Statement has(db,
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                        "name = 'change_versions'");
  if (!has.executeStep()) return std::nullopt;
  std::map<std::string, std::int64_t> versions;
  SQLite::Statement st(db, "SELECT topic, version FROM change_versions");
  while (st.executeStep()) versions[st.getColumn(0).getString()] = st.getColumn(1).getInt64();
  return versions;
}

}  // namespace

void SqliteChangeFeed::run(Listener listener) {
  std::unique_ptr<SQLite::Database> db;
  bool have_last = false;  // a data_version was read on this connection
  int64_t last = 0;        // the data_version read last
  // The topics' versions read with it (nullopt: none yet).
  std::optional<std::map<std::string, std::int64_t>> versions;
  bool failing = false;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, poll_, [this] { return stopping_; })) return;
    }
    try {
      if (!db) {
        db = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READONLY);
        db->exec("PRAGMA busy_timeout = 1000");
      }
      // data_version moves with every commit of another connection, cheaply (no table read);
      // only then are the topics' versions read, and only topics whose version moved are
      // reported: log batches, usage rollups and usage columns move none.
      const int64_t version = db->execAndGet("PRAGMA data_version").getInt64();
      const bool first = !have_last;
      if (!first && last == version) continue;
      have_last = true;
      last = version;
      std::optional<std::map<std::string, std::int64_t>> now = read_versions(*db);
      if (failing) log::info("change feed: watching the database again");
      failing = false;
      // The first read after (re)opening a connection has nothing to compare with: something
      // may have changed while we were not looking, so it counts as a change of everything; so
      // does any commit while the file has no versions yet, and their first appearance.
      if (first || !now || !versions) {
        listener(ChangeTopic::kAll);
      } else {
        for (const auto& [name, v] : *now) {
          auto was = versions->find(name);
          if (was != versions->end() && was->second == v) continue;
          // A topic this build does not know (a newer gateway of the group wrote it): ignored,
          // as the PostgreSQL feed ignores its notifications.
          if (auto topic = change_topic_from_name(name)) listener(*topic);
        }
      }
      versions = std::move(now);
    } catch (const std::exception& e) {
      // data_version is per connection: a new one starts its own count, hence `last` resets.
      db.reset();
      have_last = false;
      if (!failing) log::warn(std::string("change feed: cannot read the database: ") + e.what());
      failing = true;
    }
  }
}

}  // namespace gemgate::storage
