// ResourceMap (core/resource_map.h): memory with write-behind, expiry, a token's own entries, and
// the one-job fetch of misses that remembers what the store had.
#include "core/resource_map.h"

#include <doctest/doctest.h>

namespace gemgate {

namespace {

// A backend that records what the map writes and answers fetches from a fixed set, inline.
class RecordingBackend final : public ResourceBackend {
 public:
  bool save(const ResourceEntry& e, OnSaved done) override {
    saved.push_back(e.name);
    if (done) done();
    return true;
  }
  void remove(const std::string& name) override { removed.push_back(name); }
  bool shared() const override { return is_shared; }
  bool fetch(std::vector<std::string> names, OnFetch done) override {
    fetched.push_back(names.size());
    std::vector<ResourceEntry> found;
    for (const auto& n : names) {
      for (const auto& e : stored) {
        if (e.name == n) found.push_back(e);
      }
    }
    done(std::move(found), false);
    return true;
  }

  bool is_shared = true;
  std::vector<ResourceEntry> stored;
  std::vector<std::string> saved, removed;
  std::vector<size_t> fetched;
};

ResourceEntry entry(std::string name, int64_t key, int64_t token, int64_t created, int64_t expires,
                    std::string kind = "files") {
  return {std::move(name), key, token, std::move(kind), created, expires};
}

}  // namespace

TEST_CASE("resource map: record writes behind, find honours expiry, forget removes both") {
  auto backend = std::make_shared<RecordingBackend>();
  ResourceMap map(backend);
  map.record(entry("files/a", 3, 7, 100, 1000));
  CHECK(backend->saved == std::vector<std::string>{"files/a"});
  REQUIRE(map.find("files/a", 999));
  CHECK(map.find("files/a", 999)->key_id == 3);
  CHECK_FALSE(map.find("files/a", 1000));  // at expiry: gone
  CHECK_FALSE(map.find("files/b", 0));
  map.forget("files/a");
  CHECK(backend->removed == std::vector<std::string>{"files/a"});
  CHECK_FALSE(map.find("files/a", 0));
}

TEST_CASE("resource map: load and remember write nothing back; prune drops the expired") {
  auto backend = std::make_shared<RecordingBackend>();
  ResourceMap map(backend);
  map.load({entry("files/a", 1, 1, 1, 50), entry("files/b", 1, 1, 2, 500)});
  map.remember(entry("files/c", 2, 1, 3, 500));
  CHECK(backend->saved.empty());
  CHECK(map.size() == 3);
  CHECK(map.prune(50) == 1);
  CHECK(map.size() == 2);
}

TEST_CASE("resource map: a token's own entries of a kind, newest first, live only") {
  ResourceMap map;
  map.record(entry("files/old", 1, 7, 100, 9000));
  map.record(entry("files/new", 2, 7, 300, 9000));
  map.record(entry("files/theirs", 1, 8, 200, 9000));
  map.record(entry("files/gone", 1, 7, 400, 150));
  map.record(entry("cachedContents/c", 1, 7, 500, 9000, "cachedContents"));
  auto mine = map.owned_by(7, "files", 200);
  REQUIRE(mine.size() == 2);
  CHECK(mine[0].name == "files/new");
  CHECK(mine[1].name == "files/old");
}

TEST_CASE("resource map: misses are fetched in one job and remembered") {
  auto backend = std::make_shared<RecordingBackend>();
  backend->stored = {entry("files/x", 4, 1, 1, 9000)};
  ResourceMap map(backend);
  CHECK(map.can_fetch());
  std::vector<ResourceEntry> got;
  REQUIRE(map.fetch({"files/x", "files/y"}, [&](std::vector<ResourceEntry> found, bool failed) {
    CHECK_FALSE(failed);
    got = std::move(found);
  }));
  CHECK(backend->fetched == std::vector<size_t>{2});
  REQUIRE(got.size() == 1);
  CHECK(map.find("files/x", 0)->key_id == 4);
  CHECK(backend->saved.empty());  // came from the store: not written back
  backend->is_shared = false;
  CHECK_FALSE(map.can_fetch());
  CHECK_FALSE(ResourceMap().can_fetch());
}

}  // namespace gemgate
