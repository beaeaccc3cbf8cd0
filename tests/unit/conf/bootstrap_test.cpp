// First-start bootstrap from API_KEYS / ALLOWED_TOKENS into a real (in-memory SQLite) store:
// list splitting, each key and token added once, malformed keys and tokens that equal a pool
// key refused, tokens kept only as hashes.
#include "conf/bootstrap.h"

#include <doctest/doctest.h>
#include <map>

#include "core/crypto.h"
#include "storage/open_store.h"
#include "tests/unit/support/printers.h"

using namespace gemgate;
using namespace gemgate::conf;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::unique_ptr<storage::Store> memory_store() {
  auto store = storage::open_store(":memory:");
  INFO((store.ok() ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

std::string key(int n) {
  return "AIzaSyBOOTSTRAP" + std::to_string(n) + "xxxxxxxxxxxxxxxxxxxxxxx";
}

}  // namespace

TEST_CASE("split_list accepts commas, semicolons, spaces, tabs and newlines") {
  CHECK(split_list("a,b;c d\te\nf\r\ng") ==
        std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g"});
  CHECK(split_list(" ,, a ,\n\n") == std::vector<std::string>{"a"});
  CHECK(split_list("").empty());
}

TEST_CASE("keys and tokens from the environment are added once") {
  auto store = memory_store();
  auto env = env_of({{"API_KEYS", key(1) + "," + key(2) + "\n" + key(1)},
                     {"ALLOWED_TOKENS", "gg_token_one_0123456789 gg_token_two_0123456789"}});
  auto first = bootstrap_from_env(*store, env);
  REQUIRE(first.ok());
  CHECK(first->keys_added == 2);
  CHECK(first->tokens_added == 2);
  CHECK(first->rejected == 0);
  auto second = bootstrap_from_env(*store, env);
  REQUIRE(second.ok());
  CHECK(second->keys_added == 0);
  CHECK(second->tokens_added == 0);
  auto keys = store->load_keys();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 2);
  CHECK((*keys)[0].secret == key(1));
  CHECK((*keys)[1].secret == key(2));
  auto tokens = store->list_tokens();
  REQUIRE(tokens.ok());
  REQUIRE(tokens->size() == 2);
  CHECK((*tokens)[0].token_sha256 == crypto::sha256_hex("gg_token_one_0123456789"));
  CHECK((*tokens)[0].prefix == "gg_t");
  CHECK((*tokens)[0].suffix == "6789");
}

TEST_CASE("malformed keys are refused; nothing is deleted later") {
  auto store = memory_store();
  auto r = bootstrap_from_env(*store, env_of({{"API_KEYS", "key: " + key(1) + " short"}}));
  REQUIRE(r.ok());
  CHECK(r->keys_added == 1);
  CHECK(r->rejected == 2);  // "key:" and "short"
  auto again = bootstrap_from_env(*store, env_of({{"API_KEYS", key(2)}}));
  REQUIRE(again.ok());
  CHECK(store->load_keys()->size() == 2);  // key 1 stays although API_KEYS no longer names it
}

TEST_CASE("a token equal to a pool key is refused, also when the key was stored earlier") {
  auto store = memory_store();
  REQUIRE(bootstrap_from_env(*store, env_of({{"API_KEYS", key(1)}})).ok());
  auto r = bootstrap_from_env(*store,
                              env_of({{"ALLOWED_TOKENS", key(1) + ",gg_fine_token_0123456789"}}));
  REQUIRE(r.ok());
  CHECK(r->tokens_added == 1);
  CHECK(r->rejected == 1);
  auto tokens = store->list_tokens();
  REQUIRE(tokens->size() == 1);
  CHECK((*tokens)[0].token_sha256 == crypto::sha256_hex("gg_fine_token_0123456789"));
  auto same_run = bootstrap_from_env(*memory_store(),
                                     env_of({{"API_KEYS", key(3)}, {"ALLOWED_TOKENS", key(3)}}));
  REQUIRE(same_run.ok());
  CHECK(same_run->tokens_added == 0);
  CHECK(same_run->rejected == 1);
}

TEST_CASE("unset variables add nothing") {
  auto store = memory_store();
  auto r = bootstrap_from_env(*store, env_of({}));
  REQUIRE(r.ok());
  CHECK(r->keys_added == 0);
  CHECK(r->tokens_added == 0);
  CHECK(store->load_keys()->empty());
}

TEST_CASE("a key or token an admin deleted is not re-added from the environment") {
  auto store = memory_store();
  const std::string token = "gg_token_revoked_0123456789";
  auto env = env_of({{"API_KEYS", key(1) + "," + key(2)}, {"ALLOWED_TOKENS", token}});
  REQUIRE(bootstrap_from_env(*store, env).ok());
  auto keys = store->load_keys().value();
  REQUIRE(keys.size() == 2);
  REQUIRE(store->delete_keys({keys[0].id}).value() == 1);
  auto tokens = store->list_tokens().value();
  REQUIRE(tokens.size() == 1);
  REQUIRE(store->delete_token(tokens[0].id).value());

  auto again = bootstrap_from_env(*store, env);
  REQUIRE(again.ok());
  CHECK(again->keys_added == 0);
  CHECK(again->tokens_added == 0);
  CHECK(again->skipped_deleted == 2);
  CHECK(store->load_keys().value().size() == 1);
  CHECK(store->list_tokens().value().empty());

  // Adding them deliberately (what the admin API does) lifts the records.
  CHECK(store->add_keys({key(1)}, 1).value().added_ids.size() == 1);
  storage::NewClientToken t;
  t.token_sha256 = crypto::sha256_hex(token);
  REQUIRE(store->add_token(t).ok());
  REQUIRE(store->delete_keys({store->load_keys().value().back().id}).ok());
  CHECK(store->add_keys({key(1)}, 2, storage::KeyOrigin::kAdmin).value().added_ids.size() == 1);
  CHECK(bootstrap_from_env(*store, env)->skipped_deleted == 0);
}
