// Client tokens, settings batches and admin sessions.
#include <doctest/doctest.h>

#include "test_support.h"

namespace gemgate::storage {
namespace {

using testing::fake_sha256;
using testing::open_test_store;
using testing::TempDir;

NewClientToken token(int n, const std::string& label) {
  return {label, fake_sha256(n), "sk-g", "x7Qc", 1000 + n};
}

TEST_CASE("tokens: add, list, find by hash, delete") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto a = store->add_token(token(1, "alice"));
  auto b = store->add_token(token(2, "bob"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a < *b);

  auto list = store->list_tokens().value();
  REQUIRE(list.size() == 2);
  CHECK(list[0].label == "alice");
  CHECK(list[0].prefix == "sk-g");
  CHECK(list[0].suffix == "x7Qc");
  CHECK(list[0].created_at == 1001);
  CHECK(list[0].last_used_at == 0);

  auto found = store->find_token_by_hash(fake_sha256(2)).value();
  REQUIRE(found.has_value());
  CHECK(found->id == *b);
  CHECK_FALSE(store->find_token_by_hash(fake_sha256(3)).value().has_value());
  CHECK_FALSE(store->find_token_by_hash("not-a-hash").value().has_value());

  CHECK(store->delete_token(*a).value());
  CHECK_FALSE(store->delete_token(*a).value());
  CHECK(store->list_tokens().value().size() == 1);
}

TEST_CASE("tokens: a duplicate hash is AlreadyExists; bad input is refused") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  REQUIRE(store->add_token(token(1, "first")).ok());
  auto dup = store->add_token(token(1, "second"));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == ErrorCode::kAlreadyExists);
  CHECK(dup.error().message.find(fake_sha256(1)) == std::string::npos);

  NewClientToken bad = token(2, "x");
  bad.token_sha256 = "sk-gw-the-raw-token-must-never-be-stored";
  CHECK(store->add_token(bad).error().code == ErrorCode::kInvalidArgument);
  bad = token(3, std::string(500, 'l'));
  CHECK(store->add_token(bad).error().code == ErrorCode::kInvalidArgument);
  CHECK(store->list_tokens().value().size() == 1);
}

TEST_CASE("tokens: last use only moves forward; unknown ids are ignored") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto id = store->add_token(token(1, "t")).value();
  REQUIRE(store->touch_tokens({{id, 5000}, {id + 100, 7000}}).ok());
  CHECK(store->list_tokens().value()[0].last_used_at == 5000);
  REQUIRE(store->touch_tokens({{id, 4000}}).ok());
  CHECK(store->list_tokens().value()[0].last_used_at == 5000);
  REQUIRE(store->touch_tokens({{id, 9000}}).ok());
  CHECK(store->list_tokens().value()[0].last_used_at == 9000);
}

TEST_CASE("tokens: the policy is stored, updated, checked and survives reopen") {
  TempDir dir;
  int64_t id = 0;
  {
    auto store = open_test_store(dir.file("gemgate.db"));
    NewClientToken t = token(1, "tenant");
    t.policy.models = {"gemini-2.5-flash", "gemini-*-lite"};
    t.policy.rpm = 5;
    t.policy.tpm = 1000;
    t.policy.daily_tokens = 10'000;
    t.policy.monthly_tokens = 200'000;
    t.policy.expires_at = 4'102'444'800'000;
    t.policy.key_group = "paid";
    t.policy.enabled = false;
    id = store->add_token(t).value();
    auto plain = store->add_token(token(2, "plain")).value();
    auto list = store->list_tokens().value();
    REQUIRE(list.size() == 2);
    CHECK(list[0].policy.models == std::vector<std::string>{"gemini-2.5-flash", "gemini-*-lite"});
    CHECK(list[0].policy.rpm == 5);
    CHECK(list[0].policy.key_group == "paid");
    CHECK_FALSE(list[0].policy.enabled);
    CHECK(list[1].id == plain);
    CHECK(list[1].policy.models.empty());
    CHECK(list[1].policy.enabled);
    CHECK(list[1].policy.rpm == 0);

    TokenPolicyRow changed = list[0].policy;
    changed.models.clear();
    changed.rpm = 0;
    changed.enabled = true;
    CHECK(store->update_token(id, "renamed", changed).value());
    CHECK_FALSE(store->update_token(999, "x", changed).value());
    TokenPolicyRow bad = changed;
    bad.rpm = -1;
    CHECK(store->update_token(id, "x", bad).error().code == ErrorCode::kInvalidArgument);
    bad = changed;
    bad.models = {"has space"};
    CHECK_FALSE(store->update_token(id, "x", bad).ok());
    bad = changed;
    bad.key_group = "a,b";
    CHECK_FALSE(store->update_token(id, "x", bad).ok());
  }
  auto store = open_test_store(dir.file("gemgate.db"));
  auto t = store->list_tokens().value().at(0);
  CHECK(t.label == "renamed");
  CHECK(t.policy.models.empty());
  CHECK(t.policy.tpm == 1000);
  CHECK(t.policy.expires_at == 4'102'444'800'000);
  CHECK(t.policy.enabled);
}

TEST_CASE(
    "token usage: deltas add up per token and day; loaded from a day on; deleted with the token") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  auto a = store->add_token(token(1, "a")).value();
  auto b = store->add_token(token(2, "b")).value();
  REQUIRE(store->add_token_usage({{a, 100, 1, 10}, {a, 101, 2, 20}, {b, 101, 1, 5}}).ok());
  REQUIRE(store->add_token_usage({{a, 101, 3, 30}}).ok());  // another instance's delta
  REQUIRE(store->add_token_usage({}).ok());
  auto rows = store->load_token_usage(101).value();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].token_id == a);
  CHECK(rows[0].requests == 5);
  CHECK(rows[0].tokens == 50);
  CHECK(rows[1].token_id == b);
  CHECK(store->load_token_usage(0).value().size() == 3);
  CHECK(store->delete_token(a).value());
  CHECK(store->load_token_usage(0).value().size() == 1);
}

TEST_CASE("settings: a batch sets and resets in one go") {
  TempDir dir;
  auto store = open_test_store(dir.file("gemgate.db"));
  CHECK(store->load_settings().value().empty());
  REQUIRE(store->save_settings({{{"max_retries", "3"}, {"model", "\"gemini-2.5-flash\""}}, {}, 1})
              .ok());
  REQUIRE(store->save_settings({{{"max_retries", "5"}}, {"model", "never_set"}, 2}).ok());
  auto s = store->load_settings().value();
  CHECK(s.size() == 1);
  CHECK(s.at("max_retries") == "5");
}

TEST_CASE("settings: a failing batch leaves nothing half-written") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  auto store = open_test_store(path);
  REQUIRE(store->save_settings({{{"a", "1"}, {"b", "2"}, {"c", "{\"x\":1}"}}, {}, 1}).ok());

  // "a" and "b" are written before "zz" fails its JSON check inside the transaction; the reset
  // of "c" comes after. All of it must roll back.
  auto bad = store->save_settings({{{"a", "10"}, {"b", "20"}, {"zz", "{not json"}}, {"c"}, 2});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message.find("zz") != std::string::npos);
  auto s = store->load_settings().value();
  CHECK(s.at("a") == "1");
  CHECK(s.at("b") == "2");
  CHECK(s.at("c") == "{\"x\":1}");
  CHECK(s.count("zz") == 0);

  CHECK(store->save_settings({{{"a", "1"}}, {"a"}, 3}).error().code == ErrorCode::kInvalidArgument);
  CHECK(store->save_settings({{{"", "1"}}, {}, 3}).error().code == ErrorCode::kInvalidArgument);
  CHECK(store->save_settings({{{"bad name", "1"}}, {}, 3}).error().code ==
        ErrorCode::kInvalidArgument);

  store.reset();
  auto reopened = open_test_store(path);
  CHECK(reopened->load_settings().value().at("a") == "1");
}

TEST_CASE("sessions: create, find while valid, delete, purge, survive reopen") {
  TempDir dir;
  const std::string path = dir.file("gemgate.db");
  {
    auto store = open_test_store(path);
    REQUIRE(store->create_session({fake_sha256(1), 1000, 5000}).ok());
    REQUIRE(store->create_session({fake_sha256(2), 1000, 9000}).ok());
    REQUIRE(store->create_session({fake_sha256(3), 1000, 2000}).ok());
    CHECK(store->create_session({fake_sha256(1), 1, 2}).error().code == ErrorCode::kAlreadyExists);
    CHECK(store->create_session({"short", 1, 2}).error().code == ErrorCode::kInvalidArgument);
  }
  auto store = open_test_store(path);
  auto s1 = store->find_session(fake_sha256(1), 4999).value();
  REQUIRE(s1.has_value());
  CHECK(s1->expires_at == 5000);
  CHECK_FALSE(
      store->find_session(fake_sha256(1), 5000).value().has_value());  // expiry is exclusive
  CHECK_FALSE(store->find_session(fake_sha256(9), 0).value().has_value());

  CHECK(store->purge_expired_sessions(5000).value() == 2);  // sessions 1 and 3
  CHECK(store->find_session(fake_sha256(2), 5000).value().has_value());
  CHECK(store->delete_session(fake_sha256(2)).value());
  CHECK_FALSE(store->delete_session(fake_sha256(2)).value());

  REQUIRE(store->create_session({fake_sha256(4), 1, 100}).ok());
  REQUIRE(store->create_session({fake_sha256(5), 1, 100}).ok());
  CHECK(store->delete_all_sessions().value() == 2);
  CHECK_FALSE(store->find_session(fake_sha256(4), 0).value().has_value());
}

}  // namespace
}  // namespace gemgate::storage
