// SqliteChangeFeed: the ChangeFeed of several gateway processes sharing one SQLite file (WAL
// mode). SQLite has no notifications, so the feed polls `PRAGMA data_version` on its own
// read-only connection, which moves whenever any other connection (another process, or this
// process's storage thread) committed; then it reads the `change_versions` table, whose
// version per topic triggers raise in the transaction of each change of what the topic names
// (schema v13), and reports the topics whose version moved. Commits that change none (log
// batches, usage rollups, last-used times: nearly every commit under traffic) report nothing.
// The first look after (re)opening its connection reports kAll.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "storage/change_feed.h"

namespace gemgate::storage {

class SqliteChangeFeed final : public ChangeFeed {
 public:
  // Watches the database file at `path` every `poll` (the file is opened at start() in the
  // feed's thread, read-only; a file that cannot be opened yet is retried every `poll`).
  explicit SqliteChangeFeed(std::string path,
                            std::chrono::milliseconds poll = std::chrono::milliseconds(200));
  ~SqliteChangeFeed() override;

  Result<void> start(Listener listener) override;
  void stop() override;

 private:
  void run(Listener listener);

  const std::string path_;
  const std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gemgate::storage
