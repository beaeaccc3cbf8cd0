// The `responses` filter in the production Responses chain (log, auth, responses, models, retry,
// keys, upstream; errors: openai) against a scripted transport and an in-memory DocumentStore:
// routing, a stored response saved before its answer leaves (the ordering previous_response_id
// relies on), scoping to the client token, and the held stream head.
#include <doctest/doctest.h>
#include <map>
#include <rapidjson/document.h>
#include <string>
#include <vector>

#include "core/document_store.h"
#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

// Documents in a map; every call answers at once (the filter must post back all the same).
// `downstream_calls_at_save` records how much of the answer had reached the client per save.
class MemoryDocuments final : public DocumentStore {
 public:
  explicit MemoryDocuments(const FakeDownstream* downstream) : downstream_(downstream) {}
  bool save(StoredDocument doc) override {
    downstream_calls_at_save.push_back(downstream_->calls.size());
    docs[doc.id] = std::move(doc);
    return true;
  }
  bool load(std::string id, int64_t token_id, OnLoad done) override {
    auto it = docs.find(id);
    if (it == docs.end() || it->second.token_id != token_id) {
      done(Outcome::kNotFound, "");
    } else {
      done(Outcome::kDone, it->second.data);
    }
    return true;
  }
  bool remove(std::string id, int64_t token_id, OnRemove done) override {
    auto it = docs.find(id);
    if (it == docs.end() || it->second.token_id != token_id) {
      done(Outcome::kNotFound);
      return true;
    }
    docs.erase(it);
    done(Outcome::kDone);
    return true;
  }
  std::string mac_secret() const override { return std::string(32, 's'); }

  std::map<std::string, StoredDocument> docs;
  std::vector<size_t> downstream_calls_at_save;

 private:
  const FakeDownstream* downstream_;
};

struct Fixture {
  Fixture() {
    g.add_keys(1);
    g.services.put<DocumentStore>(store);
    ConfigNode root = ConfigNode::map(mk());
    root.put("errors", ConfigNode::scalar("openai", mk(2, 9)));
    ConfigNode list = ConfigNode::sequence(mk(3, 3));
    int line = 4;
    for (const char* name : {"log", "auth", "responses", "models", "retry", "keys", "upstream"}) {
      ConfigNode item = ConfigNode::map(mk(line++, 5));
      std::string n = name;
      if (n == "log") {
        item.put(n, config_map({{"access_log", "false"}}));
      } else if (n == "upstream") {
        item.put(n, config_map({{"base_url", kUpstream}}));
      } else {
        item.put(n, ConfigNode());
      }
      list.push(item);
    }
    root.put("filters", list);
    ConfigErrors errors;
    spec = build_chain("responses", root, g.registry, g.services, errors);
    INFO((errors.lines().empty() ? std::string() : errors.lines().front()));
    REQUIRE(spec);
  }

  Exchange& call(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& token = kClientToken) {
    const size_t q = path.find('?');
    return g.run(spec, path.substr(0, q), nullptr, [&](http::Request& r) {
      if (q != std::string::npos) r.query = path.substr(q + 1);  // as the server splits it
      r.method = method;
      r.body = body;
      r.headers.set("x-goog-api-key", token);
    });
  }

  rapidjson::Document body() {
    rapidjson::Document doc;
    doc.Parse(g.h.downstream.response.body.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
  }

  GatewayFixture g;
  std::shared_ptr<MemoryDocuments> store = std::make_shared<MemoryDocuments>(&g.h.downstream);
  std::shared_ptr<const ChainSpec> spec;
};

std::string text(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : "<not a string>";
}

const std::string kCreate = R"({"model":"gemini-2.5-flash","input":"q"})";

}  // namespace

TEST_CASE(
    "responses: unknown endpoints 404, wrong methods 405, foreign ids 404, all OpenAI-shaped") {
  Fixture f;
  f.call("POST", "/responsesx", kCreate);
  CHECK(f.g.h.downstream.response.status == 404);
  f.call("GET", "/responses");
  CHECK(f.g.h.downstream.response.status == 405);
  f.call("POST", "/responses/resp_abc");
  CHECK(f.g.h.downstream.response.status == 405);
  f.call("DELETE", "/responses/resp_abc/input_items");
  CHECK(f.g.h.downstream.response.status == 405);
  f.call("GET", "/responses/not-an-id");
  CHECK(f.g.h.downstream.response.status == 404);
  CHECK(text(f.body()["error"]["type"]) == "invalid_request_error");
  CHECK(f.g.transport->requests.empty());
}

TEST_CASE("responses: a stored response is saved before the answer leaves, then read back") {
  Fixture f;
  f.g.transport->script(Answer::json(200, kOkBody));
  f.call("POST", "/responses", kCreate);
  REQUIRE(f.g.h.downstream.response.status == 200);
  const std::string id = text(f.body()["id"]);
  CHECK(text(f.body()["output"][0]["content"][0]["text"]) == "hello");
  REQUIRE(f.store->docs.count(id) == 1);
  CHECK(f.store->docs[id].token_id == 42);
  CHECK(f.store->docs[id].expires_at_ms - f.store->docs[id].created_at_ms == 2592000LL * 1000);
  REQUIRE(f.store->downstream_calls_at_save.size() == 1);
  CHECK(f.store->downstream_calls_at_save[0] == 0);  // nothing had gone out yet

  f.call("GET", "/responses/" + id);
  CHECK(f.g.h.downstream.response.status == 200);
  CHECK(text(f.body()["id"]) == id);
  f.call("GET", "/responses/" + id + "/input_items?limit=5&order=asc");
  CHECK(text(f.body()["data"][0]["role"]) == "user");

  f.g.add_token("other-client-token-0123456789", 43);  // another token sees nothing
  f.call("GET", "/responses/" + id, "", "other-client-token-0123456789");
  CHECK(f.g.h.downstream.response.status == 404);
  f.call("DELETE", "/responses/" + id, "", "other-client-token-0123456789");
  CHECK(f.g.h.downstream.response.status == 404);
  CHECK(f.store->docs.count(id) == 1);

  f.call("DELETE", "/responses/" + id);
  CHECK(f.g.h.downstream.response.status == 200);
  CHECK(f.body()["deleted"].GetBool());
  CHECK(f.store->docs.empty());
  CHECK(f.g.transport->requests.size() == 1);  // GET and DELETE never went upstream
}

TEST_CASE("responses: store false saves nothing; previous_response_id continues the history") {
  Fixture f;
  f.g.transport->script(Answer::json(200, kOkBody));
  f.call("POST", "/responses", R"({"model":"gemini-2.5-flash","input":"q","store":false})");
  CHECK(f.store->docs.empty());

  f.g.transport->script(Answer::json(200, kOkBody));
  f.call("POST", "/responses", kCreate);
  const std::string id = text(f.body()["id"]);
  f.g.transport->script(Answer::json(200, kOkBody));
  f.call("POST", "/responses",
         R"({"model":"gemini-2.5-flash","input":"again","previous_response_id":")" + id + "\"}");
  REQUIRE(f.g.h.downstream.response.status == 200);
  rapidjson::Document sent;
  sent.Parse(f.g.transport->requests.back().body->c_str());
  REQUIRE(sent["contents"].Size() == 3);  // q, hello, again
  CHECK(text(sent["contents"][1]["parts"][0]["text"]) == "hello");
  CHECK(text(sent["contents"][2]["parts"][0]["text"]) == "again");

  f.call("POST", "/responses",
         R"({"model":"gemini-2.5-flash","input":"x","previous_response_id":"resp_gone"})");
  CHECK(f.g.h.downstream.response.status == 404);
  CHECK(text(f.body()["error"]["param"]) == "previous_response_id");
}

TEST_CASE("responses: a stream failing at its first event is a plain error, not a 200") {
  Fixture f;
  Answer a;
  a.headers.set("content-type", "text/event-stream");
  a.chunks = {
      "data: {\"error\":{\"code\":400,\"message\":\"bad\",\"status\":"
      "\"INVALID_ARGUMENT\"}}\r\n\r\n"};
  f.g.transport->script(a);
  f.call("POST", "/responses", R"({"model":"gemini-2.5-flash","input":"q","stream":true})");
  CHECK(f.g.h.downstream.response.status == 400);
  CHECK(text(f.body()["error"]["type"]) == "invalid_request_error");
  CHECK(f.store->docs.empty());
}
