// The resource map's storage side. See stored_resources.h.
#include "conf/stored_resources.h"

#include <future>

#include "core/clock.h"
#include "core/log.h"

namespace gemgate::conf {

namespace {

storage::ResourceOwner to_row(const ResourceEntry& e) {
  return storage::ResourceOwner{e.name, e.key_id,        e.token_id,
                                e.kind, e.created_at_ms, e.expires_at_ms};
}

ResourceEntry from_row(storage::ResourceOwner r) {
  return ResourceEntry{std::move(r.name), r.key_id,     r.token_id,
                       std::move(r.kind), r.created_at, r.expires_at};
}

class StorageResourceBackend final : public ResourceBackend {
 public:
  StorageResourceBackend(storage::StorageThread& thread, bool shared)
      : thread_(thread), shared_(shared) {}

  bool save(const ResourceEntry& entry, OnSaved saved) override {
    return thread_.submit([row = to_row(entry), saved = std::move(saved)](storage::Store& store) {
      if (auto r = store.put_resource(row); !r.ok()) {
        log::warn("resource " + row.name + " not saved: " + r.error().message);
      }
      if (saved) saved();
    });
  }

  void remove(const std::string& name) override {
    thread_.submit([name](storage::Store& store) {
      if (auto r = store.delete_resource(name); !r.ok()) {
        log::warn("resource " + name + " not deleted: " + r.error().message);
      }
    });
  }

  bool shared() const override { return shared_; }

  bool fetch(std::vector<std::string> names, OnFetch done) override {
    return thread_.submit(
        [names = std::move(names), done = std::move(done)](storage::Store& store) {
          std::vector<ResourceEntry> found;
          bool failed = false;
          const int64_t now = now_unix_ms();
          for (const std::string& name : names) {
            auto r = store.find_resource(name, now);
            if (!r.ok()) {
              log::warn("resource " + name + " not read: " + r.error().message);
              failed = true;
              break;
            }
            if (r->has_value()) found.push_back(from_row(std::move(**r)));
          }
          done(std::move(found), failed);
        });
  }

 private:
  storage::StorageThread& thread_;
  bool shared_;
};

}  // namespace

std::shared_ptr<ResourceMap> make_stored_resource_map(storage::StorageThread& thread, bool shared) {
  auto map =
      std::make_shared<ResourceMap>(std::make_shared<StorageResourceBackend>(thread, shared));
  std::promise<std::vector<ResourceEntry>> loaded;
  auto future = loaded.get_future();
  bool queued = thread.submit([&loaded](storage::Store& store) {
    std::vector<ResourceEntry> entries;
    if (auto rows = store.load_resources(now_unix_ms()); rows.ok()) {
      for (auto& row : *rows) entries.push_back(from_row(std::move(row)));
    } else {
      log::warn("resource affinity: stored entries not read: " + rows.error().message);
    }
    loaded.set_value(std::move(entries));
  });
  if (queued) {
    std::vector<ResourceEntry> entries = future.get();
    if (!entries.empty()) {
      log::info("resource affinity: " + std::to_string(entries.size()) +
                " resource(s) bound to their pool keys");
    }
    map->load(std::move(entries));
  }
  return map;
}

void prune_expired_resources(storage::StorageThread& thread, ResourceMap& map, int64_t now) {
  map.prune(now);
  auto prune = [now](storage::Store& store) {
    auto n = store.prune_resources(now);
    if (!n.ok()) {
      log::warn("housekeeping: resource affinity: " + n.error().message);
    } else if (*n > 0) {
      log::info("retention: deleted " + std::to_string(*n) + " expired resource binding(s)");
    }
  };
  thread.submit(std::move(prune), storage::StorageThread::JobKind::kBackground);
}

}  // namespace gemgate::conf
