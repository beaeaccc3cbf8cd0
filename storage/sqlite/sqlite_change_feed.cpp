#include "storage/sqlite/sqlite_change_feed.h"

#include <SQLiteCpp/SQLiteCpp.h>
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

void SqliteChangeFeed::run(Listener listener) {
  std::unique_ptr<SQLite::Database> db;
  std::optional<int64_t> last;  // data_version seen last; unset until the first read
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
      const int64_t version = db->execAndGet("PRAGMA data_version").getInt64();
      // The first read after (re)opening a connection has nothing to compare with: something may
      // have changed while we were not looking, so it counts as a change.
      const bool changed = !last || *last != version;
      last = version;
      if (failing) log::info("change feed: watching the database again");
      failing = false;
      if (changed) listener(ChangeTopic::kAll);
    } catch (const std::exception& e) {
      // data_version is per connection: a new one starts its own count, hence `last` resets.
      db.reset();
      last.reset();
      if (!failing) log::warn(std::string("change feed: cannot read the database: ") + e.what());
      failing = true;
    }
  }
}

}  // namespace gemgate::storage
