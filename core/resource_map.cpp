// The in-memory resource map and its write-behind. See resource_map.h.
#include "core/resource_map.h"

#include <algorithm>

namespace gemgate {

ResourceMap::ResourceMap(std::shared_ptr<ResourceBackend> backend) : backend_(std::move(backend)) {}

void ResourceMap::load(std::vector<ResourceEntry> entries) {
  std::lock_guard lock(mu_);
  for (auto& e : entries) {
    std::string name = e.name;
    entries_[std::move(name)] = std::move(e);
  }
}

std::optional<ResourceEntry> ResourceMap::find(std::string_view name, int64_t now_ms) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(name));
  if (it == entries_.end() || it->second.expires_at_ms <= now_ms) return std::nullopt;
  return it->second;
}

bool ResourceMap::record(ResourceEntry entry, ResourceBackend::OnSaved saved) {
  bool queued = backend_ && backend_->save(entry, std::move(saved));
  remember(std::move(entry));
  return queued;
}

void ResourceMap::remember(ResourceEntry entry) {
  std::lock_guard lock(mu_);
  std::string name = entry.name;
  entries_[std::move(name)] = std::move(entry);
}

void ResourceMap::forget(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    entries_.erase(name);
  }
  if (backend_) backend_->remove(name);
}

std::vector<ResourceEntry> ResourceMap::owned_by(int64_t token_id, std::string_view kind,
                                                 int64_t now_ms) const {
  std::vector<ResourceEntry> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, e] : entries_) {
      if (e.token_id == token_id && e.kind == kind && e.expires_at_ms > now_ms) out.push_back(e);
    }
  }
  std::sort(out.begin(), out.end(), [](const ResourceEntry& a, const ResourceEntry& b) {
    return a.created_at_ms != b.created_at_ms ? a.created_at_ms > b.created_at_ms : a.name < b.name;
  });
  return out;
}

size_t ResourceMap::prune(int64_t now_ms) {
  std::lock_guard lock(mu_);
  return std::erase_if(entries_,
                       [now_ms](const auto& kv) { return kv.second.expires_at_ms <= now_ms; });
}

size_t ResourceMap::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

bool ResourceMap::fetch(std::vector<std::string> names, ResourceBackend::OnFetch done) {
  if (!backend_) return false;
  return backend_->fetch(std::move(names), [this, done = std::move(done)](
                                               std::vector<ResourceEntry> found, bool failed) {
    for (const ResourceEntry& e : found) remember(e);
    done(std::move(found), failed);
  });
}

}  // namespace gemgate
