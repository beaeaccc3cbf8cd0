// Resource affinity rows: the owner of each created resource, replaced by name, invisible once
// expired, loaded in creation order, deleted, pruned; bad rows refused with nothing stored.
#include "test_support.h"

namespace gemgate::storage {

using testing::open_test_store;
using testing::TempDir;

namespace {

ResourceOwner owner(std::string name, std::int64_t key, std::int64_t token, Millis created,
                    Millis expires, std::string kind = "files") {
  return ResourceOwner{std::move(name), key, token, std::move(kind), created, expires};
}

}  // namespace

TEST_CASE("resources: a stored owner is found by name until it expires") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->put_resource(owner("files/abc", 3, 7, 1000, 10'000)).ok());

  auto found = store->find_resource("files/abc", 5000);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->key_id == 3);
  CHECK((*found)->token_id == 7);
  CHECK((*found)->kind == "files");
  CHECK((*found)->created_at == 1000);
  CHECK((*found)->expires_at == 10'000);

  CHECK_FALSE(store->find_resource("files/abc", 10'000).value().has_value());  // at expiry
  CHECK_FALSE(store->find_resource("files/other", 5000).value().has_value());
}

TEST_CASE("resources: put replaces by name (a PATCH that moves the expiry)") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->put_resource(owner("cachedContents/c1", 1, 2, 1000, 5000, "cachedContents")).ok());
  REQUIRE(
      store->put_resource(owner("cachedContents/c1", 1, 2, 1000, 90'000, "cachedContents")).ok());
  auto found = store->find_resource("cachedContents/c1", 50'000).value();
  REQUIRE(found.has_value());
  CHECK(found->expires_at == 90'000);
  CHECK(store->load_resources(0).value().size() == 1);
}

TEST_CASE("resources: load gives the live ones oldest first; delete and prune remove rows") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->put_resource(owner("batches/b", 2, -1, 3000, 50'000, "batches")).ok());
  REQUIRE(store->put_resource(owner("files/a", 1, 4, 1000, 50'000)).ok());
  REQUIRE(store->put_resource(owner("files/old", 1, 4, 500, 2000)).ok());
  REQUIRE(
      store->put_resource(owner("models/m/operations/o", 3, 4, 2000, 50'000, "operations")).ok());

  auto live = store->load_resources(2000).value();
  REQUIRE(live.size() == 3);
  CHECK(live[0].name == "files/a");
  CHECK(live[1].name == "models/m/operations/o");
  CHECK(live[2].name == "batches/b");
  CHECK(live[2].token_id == -1);

  CHECK(store->prune_resources(2000).value() == 1);
  CHECK(store->prune_resources(2000).value() == 0);
  CHECK(store->delete_resource("files/a").value());
  CHECK_FALSE(store->delete_resource("files/a").value());
  CHECK(store->load_resources(0).value().size() == 2);
}

TEST_CASE("resources: bad rows are refused with nothing stored") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto empty = store->put_resource(owner("", 1, 1, 1, 2));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == ErrorCode::kInvalidArgument);
  auto too_long = store->put_resource(owner("files/" + std::string(600, 'x'), 1, 1, 1, 2));
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().code == ErrorCode::kInvalidArgument);
  CHECK_FALSE(store->put_resource(owner("files/x", 1, 1, 1, 2, "")).ok());
  CHECK(store->load_resources(0).value().empty());
}

}  // namespace gemgate::storage
