// The `anthropic` filter in the production Anthropic chain (log, auth, anthropic, models, retry,
// keys, upstream; errors: anthropic) against a scripted transport: routing, the held stream head
// (a stream that fails at its first event is a plain HTTP error in Anthropic's shape), a stream
// broken after its start, and the ping keep-alive timer (pings while silent, none after the end,
// nothing left running when the client leaves mid-stream).
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>
#include <vector>

#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

const std::string kStreamBody = R"({"model":"claude-sonnet-4-5","max_tokens":8,"stream":true,)"
                                R"("messages":[{"role":"user","content":"q"}]})";
const std::string kHiEvent =
    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},"
    "\"index\":0}]}\r\n\r\n";
const std::string kQuotaEvent =
    "data: {\"error\":{\"code\":429,\"message\":\"Resource has been exhausted\","
    "\"status\":\"RESOURCE_EXHAUSTED\"}}\r\n\r\n";

// The Anthropic chain as conf/gemgate.yaml composes it; `ping` is the filter's ping_interval.
std::shared_ptr<const ChainSpec> anthropic_chain(GatewayFixture& g, const char* ping = "15s") {
  ConfigNode root = ConfigNode::map(mk());
  root.put("errors", ConfigNode::scalar("anthropic", mk(2, 9)));
  ConfigNode list = ConfigNode::sequence(mk(3, 3));
  int line = 4;
  for (const char* name : {"log", "auth", "anthropic", "models", "retry", "keys", "upstream"}) {
    ConfigNode item = ConfigNode::map(mk(line++, 5));
    std::string n = name;
    if (n == "log") {
      item.put(n, config_map({{"access_log", "false"}}));
    } else if (n == "upstream") {
      item.put(n, config_map({{"base_url", kUpstream}}));
    } else if (n == "anthropic") {
      item.put(n, config_map({{"ping_interval", ping}}));
    } else {
      item.put(n, ConfigNode());
    }
    list.push(item);
  }
  root.put("filters", list);
  ConfigErrors errors;
  auto spec = build_chain("anthropic", root, g.registry, g.services, errors);
  INFO((errors.lines().empty() ? std::string() : errors.lines().front()));
  REQUIRE(spec);
  return spec;
}

Exchange& call(GatewayFixture& g, const std::string& method, const std::string& path,
               const std::string& body = "") {
  return g.run(anthropic_chain(g), path, nullptr, [&](http::Request& r) {
    r.method = method;
    r.body = body;
  });
}

Answer sse(std::vector<std::string> chunks) {
  Answer a;
  a.headers.set("content-type", "text/event-stream");
  a.chunks = std::move(chunks);
  return a;
}

// error.type of an Anthropic error body ("" when the body is not one).
std::string error_type(const GatewayFixture& g) {
  rapidjson::Document doc;
  doc.Parse(g.h.downstream.response.body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("error")) return "";
  return doc["error"]["type"].GetString();
}

// Starts a streamed Messages call whose upstream transfer the test drives by hand.
Exchange& start_held(GatewayFixture& g, std::shared_ptr<const ChainSpec> chain) {
  Answer held = sse({});
  held.hold = true;
  g.transport->script(held);
  Exchange& x = g.h.start_with(
      std::move(chain),
      [](http::Request& r) {
        r.method = "POST";
        r.path = "/messages";
        r.headers.set("x-goog-api-key", kClientToken);
        r.body = kStreamBody;
      },
      g.settings());
  REQUIRE(run_until(g.h.worker, [&] { return !g.transport->transfers.empty(); }));
  return x;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("anthropic: unknown endpoints are 404 and wrong methods 405, in Anthropic's shape") {
  GatewayFixture g;
  g.add_keys(1);
  call(g, "POST", "/complete", "{}");
  CHECK(g.h.downstream.response.status == 404);
  CHECK(error_type(g) == "not_found_error");
  call(g, "GET", "/messages");
  CHECK(g.h.downstream.response.status == 405);
  CHECK(error_type(g) == "invalid_request_error");
  CHECK(g.transport->requests.empty());
}

TEST_CASE("anthropic: a bad request is a 400 without an upstream call") {
  GatewayFixture g;
  g.add_keys(1);
  call(g, "POST", "/messages", R"({"model":"claude-x","messages":[]})");
  CHECK(g.h.downstream.response.status == 400);
  CHECK(error_type(g) == "invalid_request_error");
  CHECK(g.transport->requests.empty());
}

TEST_CASE("anthropic: held head — a first event that is an error becomes a plain HTTP error") {
  GatewayFixture g;
  g.add_keys(1);
  g.transport->script(sse({kQuotaEvent, kHiEvent}));
  call(g, "POST", "/messages", kStreamBody);
  CHECK(g.h.downstream.calls == std::vector<std::string>{"response 429", "finished"});
  CHECK(error_type(g) == "rate_limit_error");
  REQUIRE(g.transport->requests.size() == 1);
  CHECK(g.transport->requests[0].url ==
        kUpstream + "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
}

TEST_CASE("anthropic: a stream broken after message_start ends with an error event, cleanly") {
  GatewayFixture g;
  g.add_keys(1);
  Answer broken = sse({kHiEvent});
  broken.failure = transport::Failure{transport::FailureKind::kReset, "connection reset", true};
  broken.fail_before_head = false;
  g.transport->script(broken);
  call(g, "POST", "/messages", kStreamBody);
  const auto& calls = g.h.downstream.calls;
  CHECK(calls.front() == "head 200");
  CHECK(calls[calls.size() - 2] == "end clean");
  const std::string& s = g.h.downstream.stream;
  CHECK(s.starts_with("event: message_start\n"));
  CHECK(s.find("\"text\":\"Hi\"") != std::string::npos);
  CHECK(s.find("event: error\n") != std::string::npos);
  CHECK(s.find("message_stop") == std::string::npos);
}

TEST_CASE("anthropic: pings during an upstream silence, none after the end") {
  GatewayFixture g;
  g.add_keys(1);
  Exchange& x = start_held(g, anthropic_chain(g, "10ms"));
  TransferState& t = *g.transport->transfers[0];
  t.head(200);
  g.h.turn();
  t.data(kHiEvent);
  REQUIRE(
      run_until(g.h.worker, [&] { return count(g.h.downstream.stream, "event: ping\n") >= 2; }));
  CHECK(g.h.downstream.stream.starts_with("event: message_start\n"));
  t.done();
  REQUIRE(run_until(g.h.worker, [&] { return x.finished(); }));
  const std::string& s = g.h.downstream.stream;
  CHECK(s.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
  size_t pings = count(s, "event: ping\n");
  g.h.turn(50);
  CHECK(count(g.h.downstream.stream, "event: ping\n") == pings);
}

TEST_CASE("anthropic: the client leaving mid-stream stops the ping timer") {
  GatewayFixture g;
  g.add_keys(1);
  Exchange& x = start_held(g, anthropic_chain(g, "10ms"));
  TransferState& t = *g.transport->transfers[0];
  t.head(200);
  g.h.turn();
  t.data(kHiEvent);
  REQUIRE(
      run_until(g.h.worker, [&] { return count(g.h.downstream.stream, "event: ping\n") >= 1; }));
  x.cancel();
  CHECK(x.finished());
  std::string before = g.h.downstream.stream;
  g.h.turn(50);
  CHECK(g.h.downstream.stream == before);
}

TEST_CASE("anthropic: ping_interval is checked at load time") {
  GatewayFixture g;
  ConfigNode root = ConfigNode::map(mk());
  ConfigNode list = ConfigNode::sequence(mk(2, 3));
  ConfigNode item = ConfigNode::map(mk(3, 5));
  item.put("anthropic", config_map({{"ping_interval", "5ms"}}));
  list.push(item);
  root.put("filters", list);
  ConfigErrors errors;
  CHECK(build_chain("c", root, g.registry, g.services, errors) == nullptr);
  REQUIRE_FALSE(errors.lines().empty());
  CHECK(errors.lines().front().find("ping_interval") != std::string::npos);
}
