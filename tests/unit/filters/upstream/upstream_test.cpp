// The upstream filter alone (chain: upstream) and under the production chain: the request it
// builds (URL, header allowlist, timeouts, body), buffered vs streamed answers, the response
// header allowlist, transport failures, size limit, backpressure and cancellation.
#include <doctest/doctest.h>

#include "filters/common/upstream_attempt.h"
#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;
using transport::FailureKind;

namespace {

std::shared_ptr<const ChainSpec> upstream_only(GatewayFixture& g,
                                               const std::string& max_bytes = "") {
  std::vector<std::pair<std::string, std::string>> cfg{{"base_url", kUpstream + "/"}};
  if (!max_bytes.empty()) cfg.emplace_back("max_response_bytes", max_bytes);
  return g.chain({{"upstream", config_map(cfg)}});
}

Answer stream_answer(std::vector<std::string> chunks) {
  Answer a;
  a.status = 200;
  a.headers.set("content-type", "text/event-stream");
  a.chunks = std::move(chunks);
  return a;
}

}  // namespace

TEST_CASE("the upstream request: URL, allowlisted headers, extra headers, body, timeouts") {
  GatewayFixture g;
  auto snapshot = g.settings({{"upstream_headers", R"({"x-goog-user-project":"proj-1"})"},
                              {"upstream_connect_timeout_ms", "1234"},
                              {"upstream_proxy", "\"http://proxy.local:3128\""}});
  g.run(upstream_only(g), kGenerate, snapshot, [](http::Request& r) {
    r.query = "alt=sse";
    r.headers.set("accept", "*/*");
    r.headers.set("x-goog-api-client", "genai-js/1.0");
    r.headers.set("cookie", "session=1");
    r.headers.set("x-forwarded-for", "10.0.0.1");
    r.headers.set("user-agent", "curl");
    r.headers.set("connection", "keep-alive");
    r.headers.set("content-length", "44");
  });
  REQUIRE(g.transport->requests.size() == 1);
  const transport::UpstreamRequest& up = g.transport->requests[0];
  CHECK(up.method == "POST");
  CHECK(up.url == kUpstream + kGenerate + "?alt=sse");  // base_url's trailing '/' dropped
  std::vector<std::string> names;
  for (const auto& [n, v] : up.headers.entries()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"content-type", "x-goog-api-key", "accept",
                                          "x-goog-api-client", "x-goog-user-project"});
  REQUIRE(up.body);
  CHECK(*up.body == R"({"contents":[{"parts":[{"text":"hi"}]}]})");
  CHECK(up.timeouts.connect_ms == 1234);
  CHECK(up.timeouts.first_byte_ms == 300'000);
  CHECK(up.timeouts.total_ms == 600'000);  // a buffered call has a total deadline
  CHECK(up.proxy == "http://proxy.local:3128");
}

TEST_CASE("a buffered answer: whole body, allowlisted response headers, usage") {
  GatewayFixture g;
  Answer a = Answer::json(200, "");
  a.chunks = {kOkBody.substr(0, 20), kOkBody.substr(20, 50), kOkBody.substr(70)};
  a.headers.set("set-cookie", "tracking=1");
  a.headers.set("x-gemini-service-tier", "standard");
  a.headers.set("server", "ESF");
  g.transport->script(a);
  Exchange& x = g.run(upstream_only(g));
  CHECK(g.h.downstream.calls == std::vector<std::string>{"response 200", "finished"});
  const http::Response& r = g.h.downstream.response;
  CHECK(r.body == kOkBody);
  CHECK(r.headers.has("content-type"));
  CHECK(r.headers.has("x-gemini-service-tier"));
  CHECK_FALSE(r.headers.has("set-cookie"));
  CHECK_FALSE(r.headers.has("server"));
  CHECK(x.info().usage.known);
  CHECK(x.info().usage.prompt == 4);
  CHECK(x.info().attempts == 1);
}

TEST_CASE("a streamed answer goes out chunk by chunk; usage found across the splits") {
  GatewayFixture g;
  std::string events =
      "data: "
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"He\"}]}}],\"usageMetadata\":{"
      "\"promptTokenCount\":3,\"totalTokenCount\":4}}\r\n\r\n"
      "data: "
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"llo\"}]}}],\"usageMetadata\":{"
      "\"promptTokenCount\":3,\"candidatesTokenCount\":2,\"totalTokenCount\":5}}\r\n\r\n";
  std::vector<std::string> pieces;
  for (size_t i = 0; i < events.size(); i += 17) pieces.push_back(events.substr(i, 17));
  g.transport->script(stream_answer(pieces));
  Exchange& x =
      g.run(upstream_only(g), kStream, nullptr, [](http::Request& r) { r.query = "alt=sse"; });
  REQUIRE(g.transport->requests.size() == 1);
  CHECK(g.transport->requests[0].timeouts.total_ms == 0);  // streams have no total deadline
  const auto& calls = g.h.downstream.calls;
  REQUIRE(calls.size() == pieces.size() + 3);
  CHECK(calls.front() == "head 200");
  CHECK(calls[calls.size() - 2] == "end clean");
  CHECK(g.h.downstream.stream == events);
  CHECK(*g.h.downstream.response.headers.get("content-type") == "text/event-stream");
  CHECK(x.info().stream);
  CHECK(x.info().usage.total == 5);
  CHECK(x.info().usage.completion == 2);
}

TEST_CASE("a stream answered with an error status is read whole and judged (retried here)") {
  GatewayFixture g;
  g.add_keys(2);
  Answer quota = Answer::json(429, "");
  quota.chunks = {"[" + quota_body("5s").substr(0, 30), quota_body("5s").substr(30) + "]"};
  g.transport->script(quota);
  g.transport->script(stream_answer({"data: {}\r\n\r\n"}));
  g.run(g.gemini_chain(), kStream);
  CHECK(g.transport->requests.size() == 2);
  CHECK(g.h.downstream.calls.front() == "head 200");
  CHECK(g.h.downstream.stream == "data: {}\r\n\r\n");
  int64_t until = 0;
  CHECK_FALSE(g.pool->find(1)->usable_for("gemini-2.5-flash", now_unix_ms(), &until));
}

TEST_CASE("a stream broken after the commit point is cut, and marked as an upstream failure") {
  GatewayFixture g;
  g.add_keys(2);
  Answer broken = stream_answer({"data: {\"a\":1}\r\n\r\n"});
  broken.failure = transport::Failure{FailureKind::kReset, "connection reset", true};
  broken.fail_before_head = false;
  g.transport->script(broken);
  Exchange& x = g.run(g.gemini_chain(), kStream);
  CHECK(g.transport->requests.size() == 1);  // never replayed after output went out
  CHECK(g.h.downstream.calls == std::vector<std::string>{"head 200",
                                                         "chunk data: {\"a\":1}\r\n\r\n", "end cut",
                                                         "finished"});
  CHECK(x.run_slot<upstream::UpstreamAttempt>().failure == FailureKind::kReset);
  CHECK(x.run_slot<upstream::UpstreamAttempt>().response_started);
  CHECK(x.run_slot<upstream::UpstreamAttempt>().message.find("connection reset") !=
        std::string::npos);
}

TEST_CASE(
    "transport failures map to 502/504: the kind in UpstreamAttempt, the detail only in the log") {
  struct Case {
    FailureKind kind;
    int status;
    const char* name;
  };
  for (Case c :
       {Case{FailureKind::kTimeout, 504, "timeout"},
        Case{FailureKind::kConnectFailed, 502, "connect"}, Case{FailureKind::kReset, 502, "reset"},
        Case{FailureKind::kProtocol, 502, "protocol"},
        Case{FailureKind::kInternal, 502, "internal"}}) {
    CAPTURE(c.name);
    GatewayFixture g;
    g.transport->script(Answer::fail(c.kind, "upstream.test: broken"));
    Exchange& x = g.run(upstream_only(g));
    const http::Response& r = g.h.downstream.response;
    CHECK(r.status == c.status);
    const upstream::UpstreamAttempt& attempt = x.run_slot<upstream::UpstreamAttempt>();
    CHECK(attempt.failure == c.kind);
    CHECK(std::string(attempt.failure_name()) == c.name);
    CHECK(attempt.message == "upstream.test: broken");
    CHECK_FALSE(attempt.response_started);
    CHECK(r.body.find("upstream.test") == std::string::npos);  // no address for the client
    REQUIRE(r.headers.has("x-request-id"));
    CHECK(r.body.find("request id " + *r.headers.get("x-request-id")) != std::string::npos);
    CHECK(x.info().error == "upstream.test: broken");  // the log row keeps the detail
  }
}

TEST_CASE("an answer over max_response_bytes is refused with 502 and the transfer cancelled") {
  GatewayFixture g;
  Answer big = Answer::json(200, std::string(600, 'x'));
  big.chunks.push_back(std::string(600, 'y'));
  g.transport->script(big);
  Exchange& x = g.run(upstream_only(g, "1KiB"));
  CHECK(g.h.downstream.response.status == 502);
  CHECK(x.run_slot<upstream::UpstreamAttempt>().failure == FailureKind::kProtocol);
  CHECK(g.transport->transfers[0]->cancelled);
}

TEST_CASE("backpressure from the client pauses and resumes the transfer") {
  GatewayFixture g;
  Answer held;
  held.hold = true;
  g.transport->script(held);
  g.h.downstream = FakeDownstream();
  Exchange& x = g.h.start_with(
      upstream_only(g),
      [](http::Request& r) {
        r.method = "POST";
        r.path = kStream;
      },
      g.settings());
  REQUIRE(g.transport->transfers.size() == 1);
  auto t = g.transport->transfers[0];
  t->head(200);
  t->data("one");
  x.set_downstream_blocked(true);
  CHECK(t->paused);
  x.set_downstream_blocked(false);
  CHECK_FALSE(t->paused);
  CHECK(t->resumes == 1);
  t->done();
  CHECK(g.h.downstream.calls ==
        std::vector<std::string>{"head 200", "chunk one", "end clean", "finished"});
}

TEST_CASE("a client that goes away cancels the upstream transfer") {
  GatewayFixture g;
  Answer held;
  held.hold = true;
  g.transport->script(held);
  Exchange& x = g.h.start_with(
      upstream_only(g),
      [](http::Request& r) {
        r.method = "POST";
        r.path = kGenerate;
      },
      g.settings());
  auto t = g.transport->transfers.at(0);
  CHECK_FALSE(t->cancelled);
  x.cancel();
  CHECK(t->cancelled);
  CHECK(g.h.downstream.calls.empty());
}

TEST_CASE("no transport on the worker: 500") {
  GatewayFixture g;
  g.h.worker.services().put<transport::Transport>(nullptr);
  g.run(upstream_only(g));
  CHECK(g.h.downstream.response.status == 500);
}

TEST_CASE("upstream config and settings are validated") {
  GatewayFixture g;
  ConfigErrors errors;
  ConfigNode root = ConfigNode::map(mk());
  ConfigNode list = ConfigNode::sequence(mk(2, 3));
  ConfigNode item = ConfigNode::map(mk(3, 5));
  item.put("upstream", config_map({{"base_url", "ftp://x"}, {"max_response_bytes", "lots"}}));
  list.push(item);
  root.put("filters", list);
  CHECK(build_chain("c", root, g.registry, g.services, errors) == nullptr);
  CHECK(
      errors.lines() ==
      std::vector<std::string>{
          "test.yaml:3:7: 'max_response_bytes' must be a size like 32KiB or 16MiB; got 'lots'",
          "test.yaml:2:7: upstream 'base_url' must be an http:// or https:// URL, got 'ftp://x'"});
  const SettingsSchema& schema = g.registry.settings_schema();
  CHECK_FALSE(schema.convert_text("upstream_proxy", "\"ftp://x\"").ok());
  CHECK(schema.convert_text("upstream_proxy", "\"socks5h://127.0.0.1:1080\"").ok());
  CHECK_FALSE(schema.convert_text("upstream_headers", R"({"x-goog-api-key":"steal"})").ok());
  CHECK_FALSE(schema.convert_text("upstream_headers", R"({"authorization":"x"})").ok());
  CHECK_FALSE(schema.convert_text("upstream_headers", R"({"host":"x"})").ok());
  CHECK_FALSE(schema.convert_text("upstream_headers", R"({"x-a":"1\r\nx-b: 2"})").ok());
  CHECK_FALSE(schema.convert_text("upstream_headers", R"({"bad name":"1"})").ok());
  CHECK_FALSE(schema.convert_text("upstream_headers", R"({"x-a":1})").ok());
  CHECK_FALSE(schema.convert_text("upstream_headers", "[]").ok());
  CHECK(schema.convert_text("upstream_headers", R"({"x-goog-user-project":"p"})").ok());
}

TEST_CASE("any 2xx text/event-stream answer streams, on any path and method; JSON stays whole") {
  GatewayFixture g;
  Answer sse = stream_answer({"data: {\"n\":1}\n\n", "data: {\"n\":2}\n\n"});
  sse.headers.set("content-type", "Text/Event-Stream; charset=utf-8");
  g.transport->script(sse);
  Exchange& x = g.run(upstream_only(g), "/v1beta/interactions/abc", nullptr,
                      [](http::Request& r) { r.method = "GET"; });
  CHECK(g.h.downstream.calls.front() == "head 200");
  CHECK(g.h.downstream.stream == "data: {\"n\":1}\n\ndata: {\"n\":2}\n\n");
  CHECK(x.info().stream);

  GatewayFixture j;
  Answer json = Answer::json(200, R"({"id":"abc"})");
  j.transport->script(json);
  j.run(upstream_only(j), "/v1beta/interactions", nullptr);
  CHECK(j.h.downstream.calls == std::vector<std::string>{"response 200", "finished"});
  CHECK(j.h.downstream.response.body == R"({"id":"abc"})");
  // The whole-call deadline stays for a call that did not ask for a stream.
  CHECK(j.transport->requests[0].timeouts.total_ms == 600'000);
}

TEST_CASE("a streamed request body goes to the transfer as a source, with no total deadline") {
  GatewayFixture g;
  class Source final : public http::BodySource {
   public:
    int64_t length() const override { return 3; }
    std::ptrdiff_t read(char*, size_t) override { return 0; }
    void set_wakeup(std::function<void()>) override {}
    uint64_t consumed() const override { return 0; }
    bool can_rewind() const override { return true; }
    bool rewind() override { return true; }
  };
  auto source = std::make_shared<Source>();
  g.run(upstream_only(g), "/upload/v1beta/files", nullptr, [&](http::Request& r) {
    r.body.clear();
    r.body_stream = source;
  });
  REQUIRE(g.transport->requests.size() == 1);
  const transport::UpstreamRequest& up = g.transport->requests[0];
  CHECK(up.body == nullptr);
  CHECK(up.body_stream == source);
  CHECK(up.timeouts.total_ms == 0);  // an upload of unknown duration: the idle deadline bounds it
}
