// ResourceMap: which upstream credential (pool key) and which client token own each server-side
// resource the gateway saw created (an uploaded file, a cached conversation, a batch job…) — the
// hot side of resource affinity, shared by every worker. Names are opaque strings to core; the
// filter that records and reads them (filters/affinity) knows what they mean.
//
// Lookups never block a worker loop: the map lives in memory behind a short lock, loaded from
// storage at start (load()) and filled as answers create resources (record()). Writes go behind
// through a ResourceBackend (the composition root implements it over the storage thread), so the
// stored map survives restarts. On a gateway of a group (several gateways on one database) a
// resource another instance created is not in this memory yet: the backend can fetch() it from
// the store asynchronously, and the filter waits for that before it calls the resource unknown.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gemgate {

struct ResourceEntry {
  std::string name;       // the resource's upstream name, e.g. "files/abc"
  int64_t key_id = -1;    // the pool key that created it
  int64_t token_id = -1;  // the client token that created it (-1: none)
  std::string kind;       // its type, e.g. "files" (for a token's own lists)
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // gone after this
};

// Where the map is kept beyond memory. Every call queues work and returns at once.
class ResourceBackend {
 public:
  // Runs on the storage thread, never on the caller's loop: post back to the exchange. `found`
  // holds the live entries among the names asked for; `failed` says the store could not be read.
  using OnFetch = std::function<void(std::vector<ResourceEntry> found, bool failed)>;

  // Runs on the storage thread once a write was tried (stored or not; a failure is logged there).
  using OnSaved = std::function<void()>;

  virtual ~ResourceBackend() = default;
  // Queues the write of `entry` (insert or replace); `saved` (may be empty) runs after it. Returns
  // false when storage is shutting down (`saved` never runs).
  virtual bool save(const ResourceEntry& entry, OnSaved saved) = 0;
  // Queues the deletion of `name`.
  virtual void remove(const std::string& name) = 0;
  // True when other gateways write the same store (a miss here may be a hit there).
  virtual bool shared() const = 0;
  // Queues one read of `names` (those not expired); false when storage is shutting down (done
  // never runs).
  virtual bool fetch(std::vector<std::string> names, OnFetch done) = 0;
};

class ResourceMap {
 public:
  // `backend` may be null: memory only (tests, a gateway without storage).
  explicit ResourceMap(std::shared_ptr<ResourceBackend> backend = nullptr);

  // Puts stored entries into memory (at start); writes nothing back.
  void load(std::vector<ResourceEntry> entries);
  // The owner of `name` if known here and not expired at `now_ms`.
  std::optional<ResourceEntry> find(std::string_view name, int64_t now_ms) const;
  // Records `entry` in memory and writes it behind; `saved` (may be empty) runs on the storage
  // thread once the write was tried. Returns true when `saved` will run, false when there is no
  // store (memory only) or it is shutting down. Thread-safe.
  bool record(ResourceEntry entry, ResourceBackend::OnSaved saved = {});
  // Keeps `entry` in memory only (it came from the store).
  void remember(ResourceEntry entry);
  // Forgets `name` in memory and in the store.
  void forget(const std::string& name);
  // The live entries of `kind` created by `token_id`, newest first (a token's own list).
  std::vector<ResourceEntry> owned_by(int64_t token_id, std::string_view kind,
                                      int64_t now_ms) const;
  // Drops expired entries from memory (the store prunes its own rows). Returns how many.
  size_t prune(int64_t now_ms);
  size_t size() const;

  // True when a miss should be asked of the store (see ResourceBackend::shared).
  bool can_fetch() const { return backend_ && backend_->shared(); }
  // ResourceBackend::fetch, remembering what it finds; false when it cannot run.
  bool fetch(std::vector<std::string> names, ResourceBackend::OnFetch done);

 private:
  std::shared_ptr<ResourceBackend> backend_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, ResourceEntry> entries_;
};

}  // namespace gemgate
