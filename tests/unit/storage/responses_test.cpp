// Stored responses (the OpenAI Responses front): scoped to their client token, expiring, capped,
// replaced by id, pruned; and the storage thread's FIFO order that makes a load right after a
// save find the row.
#include <atomic>
#include <future>

#include "storage/storage_thread.h"
#include "test_support.h"

namespace gemgate::storage {

using testing::open_test_store;
using testing::TempDir;

namespace {

StoredResponse row(std::string id, std::int64_t token, Millis expires, std::string data = "{}") {
  return StoredResponse{std::move(id), token, 1000, expires, std::move(data)};
}

}  // namespace

TEST_CASE("stored responses: only the owning token finds or deletes one") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->put_response(row("resp_a", 1, 10'000, R"({"x":1})")).ok());

  auto mine = store->find_response("resp_a", 1, 5000);
  REQUIRE(mine.ok());
  REQUIRE(mine->has_value());
  CHECK((*mine)->data == R"({"x":1})");
  CHECK((*mine)->token_id == 1);
  CHECK((*mine)->expires_at == 10'000);

  auto theirs = store->find_response("resp_a", 2, 5000);
  REQUIRE(theirs.ok());
  CHECK_FALSE(theirs->has_value());
  CHECK_FALSE(store->delete_response("resp_a", 2).value());  // another token: nothing deleted
  CHECK(store->find_response("resp_a", 1, 5000).value().has_value());

  CHECK(store->delete_response("resp_a", 1).value());
  CHECK_FALSE(store->find_response("resp_a", 1, 5000).value().has_value());
  CHECK_FALSE(store->delete_response("resp_a", 1).value());
}

TEST_CASE("stored responses: expired rows are invisible, then pruned") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->put_response(row("resp_old", 1, 2000)).ok());
  REQUIRE(store->put_response(row("resp_new", 1, 9000)).ok());
  CHECK_FALSE(store->find_response("resp_old", 1, 2000).value().has_value());  // at expiry: gone
  CHECK(store->find_response("resp_new", 1, 2000).value().has_value());
  CHECK(store->prune_responses(5000).value() == 1);
  CHECK(store->prune_responses(5000).value() == 0);
  CHECK(store->find_response("resp_new", 1, 5000).value().has_value());
}

TEST_CASE("stored responses: put replaces by id; bad rows are refused with nothing stored") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->put_response(row("resp_r", 1, 9000, R"({"v":1})")).ok());
  REQUIRE(store->put_response(row("resp_r", 1, 9000, R"({"v":2})")).ok());
  CHECK(store->find_response("resp_r", 1, 0).value()->data == R"({"v":2})");

  auto empty_id = store->put_response(row("", 1, 9000));
  CHECK(empty_id.error().code == ErrorCode::kInvalidArgument);
  auto long_id = store->put_response(row(std::string(200, 'r'), 1, 9000));
  CHECK(long_id.error().code == ErrorCode::kInvalidArgument);
  auto not_json = store->put_response(row("resp_bad", 1, 9000, "{not json"));
  CHECK(not_json.error().code == ErrorCode::kInvalidArgument);
  auto huge = store->put_response(
      row("resp_huge", 1, 9000, "\"" + std::string(kMaxStoredResponseBytes, 'a') + "\""));
  CHECK(huge.error().code == ErrorCode::kInvalidArgument);
  CHECK_FALSE(store->find_response("resp_bad", 1, 0).value().has_value());
  CHECK_FALSE(store->find_response("resp_huge", 1, 0).value().has_value());
}

TEST_CASE("storage thread: a load submitted after a save sees the saved row") {
  TempDir dir;
  StorageThread thread(open_test_store(dir.file("gemgate.db")));
  std::promise<bool> found;
  for (int i = 0; i < 50; ++i) {
    thread.submit([i](Store& s) {
      (void)s.put_response(row("resp_" + std::to_string(i), 7, 1LL << 60));  // checked below
    });
  }
  thread.submit([&found](Store& s) {
    found.set_value(s.find_response("resp_49", 7, 0).value().has_value());
  });
  CHECK(found.get_future().get());
}

}  // namespace gemgate::storage
