// Adapters from the data path's reporting interfaces (LogSink, CredentialUsage) to the storage
// thread's write-behind queues, and from the key pool's dirty health to stored key health.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/access_log.h"
#include "core/credentials.h"
#include "core/metrics/metrics.h"
#include "core/token_meter.h"
#include "pool/key_pool.h"
#include "storage/storage_thread.h"

namespace gemgate::conf {

class StorageLogSink final : public LogSink {
 public:
  // Every row it writes carries `instance_id` (which gateway of a group logged it; "" for a
  // gateway nobody named, whose rows then stay out of the instance index).
  StorageLogSink(storage::StorageThread& thread, std::string instance_id)
      : thread_(thread), instance_id_(std::move(instance_id)) {}
  void record_request(const StreamInfo& info) override;
  void record_attempt_failure(const AttemptFailure& failure) override;
  // Counted per minute (storage rollup refused_minute), never stored as a log row.
  void record_refused(const StreamInfo& info) override {
    thread_.count_refused(info.start_unix_ms);
  }

 private:
  storage::StorageThread& thread_;
  const std::string instance_id_;
};

class StorageCredentialUsage final : public CredentialUsage {
 public:
  explicit StorageCredentialUsage(storage::StorageThread& thread) : thread_(thread) {}
  void token_used(int64_t id, int64_t time_ms) override { thread_.touch_token(id, time_ms); }

 private:
  storage::StorageThread& thread_;
};

// Keeps the token meter's day/month counters and storage in step: the deltas counted since the
// last sync are added to the stored (token, day) rows, then this month's stored totals are read
// back into the meter. With several gateways on one database the rows hold the group's sum, so
// each instance sees the others' usage within one sync interval.
class TokenUsageSync {
 public:
  TokenUsageSync(std::shared_ptr<TokenMeter> meter, storage::StorageThread& thread)
      : meter_(std::move(meter)), thread_(thread) {}
  // Queues one sync on the storage thread, unless the previous one has not run yet (a slow
  // disk then gets one sync at a time, not a queue of them). Thread-safe.
  void start();
  // One sync, inline: on the storage thread (inside a job) or before it starts. On a failed
  // write the deltas go back to the meter for the next sync.
  static Result<void> run(TokenMeter& meter, storage::Store& store, int64_t now_ms);

 private:
  std::shared_ptr<TokenMeter> meter_;
  storage::StorageThread& thread_;
  std::shared_ptr<std::atomic<bool>> queued_ = std::make_shared<std::atomic<bool>>(false);
};

// Converts between the pool's view of key health and the stored one.
storage::KeyHealthRow to_stored(const pool::KeyHealth& h);
pool::KeyHealth from_stored(const storage::KeyHealthRow& h);
// ... and of a key's policy (weight, group, limits, proxy, note).
pool::KeyPolicy from_stored(const storage::KeyPolicyRow& p);

// Writes the storage families of /metrics: the write-behind queue's depth and the log rows
// written, dropped and the failed write transactions. Thread-safe.
void collect_storage_metrics(const storage::StorageThread& thread, metrics::Writer& w);

// Queues the health of every key changed since the last call. Thread-safe.
void write_behind_key_health(pool::KeyPool& pool, storage::StorageThread& thread);

}  // namespace gemgate::conf
