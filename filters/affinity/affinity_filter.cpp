// The `affinity` filter: pins calls naming a resource to its owning key, records what answers
// create, keeps tokens to their own resources. See affinity_filter.h.
#include "filters/affinity/affinity_filter.h"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/exchange.h"
#include "core/resource_map.h"
#include "filters/affinity/own_list.h"
#include "filters/affinity/resource_names.h"
#include "filters/common/key_pin.h"

namespace gemgate::affinity {

namespace {

class AffinityFilter final : public Filter {
 public:
  explicit AffinityFilter(std::shared_ptr<ResourceMap> map) : map_(std::move(map)) {}

  Status on_request(FilterCallbacks& x) override {
    const http::Request& req = x.request();
    method_ = req.method;
    path_ = req.path;
    token_id_ = x.info().token_id;
    isolation_ = x.settings().get(kTokenIsolation);
    if (isolation_ && token_id_ >= 0) {
      if (auto list = own_list_kind(req.method, req.path)) {
        auto items = map_->owned_by(token_id_, list->kind, now_unix_ms());
        listing_ = std::make_unique<OwnList>(std::move(*list), std::move(items));
        return listing_->start(x);
      }
    }
    path_names_ = names_in_path(req.path);
    names_ = path_names_;
    if (req.method != "GET" && req.method != "DELETE" && !req.body.empty()) {
      std::vector<std::string> cited = names_in_body(req.body);
      if (cited.size() > kMaxNamesPerCall) {
        x.info().error_kind = "too_many_resources";
        x.reply_local(400, "INVALID_ARGUMENT",
                      "this call names more than " + std::to_string(kMaxNamesPerCall) +
                          " files, caches or other resources; split it");
        return Status::Stop;
      }
      for (std::string& n : cited) {
        if (std::find(names_.begin(), names_.end(), n) == names_.end()) names_.push_back(n);
      }
    }
    if (names_.empty()) return Status::Continue;
    return resolve(x);
  }

  Status on_response_head(FilterCallbacks& x) override {
    if (listing_) return listing_->on_answer(x, *map_);
    http::Response& r = x.response();
    if (r.streaming) {
      // A streamed interaction: its id comes in the first events (on_response_data).
      watch_stream_ = !r.local_error && r.status >= 200 && r.status < 300 && method_ == "POST" &&
                      path_.ends_with("/interactions") && x.info().key_id >= 0;
      return Status::Continue;
    }
    if (r.local_error) return Status::Continue;
    const int64_t key = x.info().key_id;
    if (r.status == 404 && pinned_ && !path_names_.empty()) {
      // Gone on its own key: nothing to pin any more. Only when the path names all the call
      // names: a 404 of a call whose body cites more (a tuned model's generateContent with a
      // cache that expired) may be about those, and the path's resource still exists.
      if (names_.size() == path_names_.size()) map_->forget(path_names_.front());
      return Status::Continue;
    }
    if (r.status < 200 || r.status >= 300 || key < 0) return Status::Continue;
    if (method_ == "DELETE" && !path_names_.empty()) {
      if (map_->find(path_names_.front(), now_unix_ms())) map_->forget(path_names_.front());
      return Status::Continue;
    }
    return record_created(x, key, r.body);
  }

 private:
  void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) override {
    if (!watch_stream_) return;
    stream_head_.append(chunk);
    std::string id = interaction_id_in_events(stream_head_);
    if (!id.empty()) {
      record_created_named(x, "interactions/" + id, 0);
    }
    // Found, over, or past what any first event needs: stop looking.
    if (!id.empty() || last || stream_head_.size() > kMaxStreamHead) {
      watch_stream_ = false;
      std::string().swap(stream_head_);
    }
  }

  // How much of an event stream is searched for the interaction's id.
  static constexpr size_t kMaxStreamHead = 64 * 1024;

  // Looks up every name; on a gateway of a group the misses are read from the shared store in
  // one job (Stop, then resume) before they count as unknown. Returns Continue when the call may
  // go on (pinned or not), Stop when it replied or waits.
  Status resolve(FilterCallbacks& x) {
    const int64_t now = now_unix_ms();
    std::vector<std::string> misses;
    for (const std::string& name : names_) {
      if (auto e = map_->find(name, now)) {
        owners_.push_back(std::move(*e));
      } else {
        misses.push_back(name);
      }
    }
    if (misses.empty() || !map_->can_fetch()) return decide(x);
    auto ref = x.ref();
    bool queued = map_->fetch(std::move(misses), [this, ref](std::vector<ResourceEntry> found,
                                                             bool /*failed: pass unpinned*/) {
      ref.post([this, found = std::move(found)](FilterCallbacks& x) mutable {
        for (ResourceEntry& e : found) owners_.push_back(std::move(e));
        if (decide(x) == Status::Continue) x.resume();
      });
    });
    return queued ? Status::Stop : decide(x);
  }

  // With every owner known: refuses another token's resource and a call spanning two keys,
  // else pins the call to the one owning key.
  Status decide(FilterCallbacks& x) {
    if (owners_.empty()) return Status::Continue;
    if (isolation_) {
      for (const ResourceEntry& e : owners_) {
        if (e.token_id == token_id_) continue;
        x.info().error = e.name + " belongs to another client token";
        x.info().error_kind = "resource_not_found";
        x.reply_local(http::LocalError{404, "NOT_FOUND", e.name + " was not found", "", ""});
        return Status::Stop;
      }
    }
    const ResourceEntry& first = owners_.front();
    for (const ResourceEntry& e : owners_) {
      if (e.key_id == first.key_id) continue;
      std::string msg = "this call names " + first.name + " and " + e.name +
                        ", which belong to different pool keys (" + std::to_string(first.key_id) +
                        " and " + std::to_string(e.key_id) + "); no key can use both";
      x.info().error = msg;
      x.info().error_kind = "resources_on_different_keys";
      x.reply_local(http::LocalError{409, "FAILED_PRECONDITION", msg, "", ""});
      return Status::Stop;
    }
    x.slot<common::KeyPin>() = {first.key_id, first.name};
    pinned_ = true;
    return Status::Continue;
  }

  // Records each resource the answer created, bound to the key that served it. On a gateway of a
  // group the answer waits until the rows are stored (Stop, resumed when the last save is done):
  // a client that names the new resource at once on another gateway must find it there, not land
  // on a random key.
  Status record_created(FilterCallbacks& x, int64_t key, const std::string& body) {
    const bool durable = map_->can_fetch();
    for (Created& c : created_by_answer(method_, path_, body)) {
      record_created_named(x, std::move(c.name), c.expires_at_ms, key, durable);
    }
    return saves_pending_ > 0 ? Status::Stop : Status::Continue;
  }

  // Records `name` for the key that served this call (`key`, default StreamInfo::key_id) and the
  // caller's token, expiring at `expires_at_ms` (0: the kind's default). A known resource of the
  // same key keeps its creator and creation time (a refresh only moves its expiry). `durable`:
  // count the store's write in saves_pending_, and resume the parked answer when it is done.
  void record_created_named(FilterCallbacks& x, std::string name, int64_t expires_at_ms,
                            int64_t key = -1, bool durable = false) {
    if (key < 0) key = x.info().key_id;
    if (key < 0) return;
    const int64_t now = now_unix_ms();
    ResourceEntry e;
    e.kind = kind_of(name);
    e.key_id = key;
    e.token_id = token_id_;
    e.created_at_ms = now;
    e.expires_at_ms = expires_at_ms > now          ? expires_at_ms
                      : e.kind == "files"          ? now + kFileTtlMs
                      : e.kind == "cachedContents" ? now + kCacheDefaultTtlMs
                                                   : now + x.settings().get(kDefaultTtlS) * 1000;
    if (auto known = map_->find(name, now)) {
      if (known->key_id == key && expires_at_ms <= now) return;  // nothing new
      // A name a client may choose (files.create takes one) never moves a live resource of
      // another token to this one: that would take the owner's file away from it.
      if (isolation_ && known->key_id != key && known->token_id != token_id_) return;
      if (known->key_id == key) {
        e.token_id = known->token_id;
        e.created_at_ms = known->created_at_ms;
      }
    }
    e.name = std::move(name);
    if (!durable) {
      map_->record(std::move(e));
      return;
    }
    auto ref = x.ref();
    bool waits = map_->record(std::move(e), [this, ref] {
      ref.post([this](FilterCallbacks& x) {
        if (--saves_pending_ == 0) x.resume();
      });
    });
    if (waits) ++saves_pending_;
  }

  std::shared_ptr<ResourceMap> map_;
  std::string method_;
  std::string path_;
  int64_t token_id_ = -1;
  bool isolation_ = true;
  bool pinned_ = false;
  std::vector<std::string> path_names_;  // what the path names, most specific first
  std::vector<std::string> names_;       // path names, then body names
  std::vector<ResourceEntry> owners_;    // the known owners of names_
  std::unique_ptr<OwnList> listing_;     // a token's own list being assembled
  int saves_pending_ = 0;                // stores of created resources the answer waits for
  bool watch_stream_ = false;            // a streamed interaction whose id is still to come
  std::string stream_head_;              // its events so far (at most kMaxStreamHead)
};

}  // namespace

Result<void> register_affinity_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kTokenIsolation.with({.description = "A client token may only use, list and delete the "
                                           "files, caches, batches and other resources it "
                                           "created (off: any token may use any of them).",
                            .default_json = "true"}),
      kDefaultTtlS.with({.description = "How long a batch, interaction, tuned model or "
                                        "operation stays bound to the key that created it, in "
                                        "seconds (files: 48 h; caches: their expireTime).",
                         .default_json = "2592000",
                         .min = 60,
                         .max = 31'536'000}),
  });
  if (!declared.ok()) return declared;
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "affinity",
      .summary = "sends every call naming a file, cache, batch, interaction, tuned model or "
                 "operation to the pool key that created it",
      .build = [](const FilterBuild<NoConfig>& b) -> std::optional<FilterFactory> {
        auto map =
            b.require<ResourceMap>("the affinity filter needs the resource map (wiring error)");
        if (!map) return std::nullopt;
        return FilterFactory([map] { return std::make_unique<AffinityFilter>(map); });
      },
  });
}

}  // namespace gemgate::affinity
