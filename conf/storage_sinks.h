// Adapters from the data path's reporting interfaces (LogSink, CredentialUsage) to the storage
// thread's write-behind queues, and from the key pool's dirty health to stored key health.
#pragma once

#include <memory>

#include "core/access_log.h"
#include "core/credentials.h"
#include "core/metrics/metrics.h"
#include "pool/key_pool.h"
#include "storage/storage_thread.h"

namespace gemgate::conf {

class StorageLogSink final : public LogSink {
 public:
  explicit StorageLogSink(storage::StorageThread& thread) : thread_(thread) {}
  void record_request(const StreamInfo& info) override;
  void record_attempt_failure(const AttemptFailure& failure) override;
  // Counted per minute (storage rollup refused_minute), never stored as a log row.
  void record_refused(const StreamInfo& info) override {
    thread_.count_refused(info.start_unix_ms);
  }

 private:
  storage::StorageThread& thread_;
};

class StorageCredentialUsage final : public CredentialUsage {
 public:
  explicit StorageCredentialUsage(storage::StorageThread& thread) : thread_(thread) {}
  void token_used(int64_t id, int64_t time_ms) override { thread_.touch_token(id, time_ms); }

 private:
  storage::StorageThread& thread_;
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
