// PgChangeFeed: the ChangeFeed of a PostgreSQL database (storage/change_feed.h). It LISTENs on
// channel `gemgate_changes` on its own connection, in its own thread, and calls the listener
// with the topic each NOTIFY names (PgStore sends them inside its write transactions).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "storage/change_feed.h"

namespace gemgate::storage {

// The NOTIFY channel PgStore writes to and PgChangeFeed listens on.
inline constexpr const char* kChangeChannel = "gemgate_changes";

class PgChangeFeed final : public ChangeFeed {
 public:
  // `conninfo`: the same DATABASE_URL the store uses (never logged; errors are redacted).
  explicit PgChangeFeed(std::string conninfo);
  ~PgChangeFeed() override;
  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  // Starts the feed thread. kInvalidArgument when `conninfo` is not a connection string; a
  // server that is down is retried in the background (backoff 250 ms doubling to 5 s). Each
  // time the feed starts listening — the first connect and every reconnect — it reports kAll:
  // whatever changed while it was not listening is unknown.
  Result<void> start(Listener listener) override;
  void stop() override;

  // How many times the feed has started listening (tests; 1 after the first connect).
  int connects() const { return connects_.load(); }

 private:
  void run();
  // Waits up to `d` unless stop() is called; returns false when stopping.
  bool sleep_for(std::chrono::milliseconds d);

  std::string conninfo_;
  Listener listener_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connects_{0};
  std::mutex mu_;
  std::condition_variable wake_;
};

}  // namespace gemgate::storage
