// The upload chain (log, auth, files, keys, upstream) with a scripted upstream: the upload URL
// Google answers `start` with is replaced by an opaque gateway URL, and a call on that URL goes
// to Google's session on the start's key.
#include <doctest/doctest.h>

#include "tests/unit/support/filter_fixture.h"

using namespace gemgate;
using namespace gemgate::testing;

namespace {

const std::string kGoogleUrl =
    "https://generativelanguage.googleapis.com/upload/v1beta/files?key=AIzaSECRET&upload_id=SESS1"
    "&upload_protocol=resumable";

std::shared_ptr<const ChainSpec> upload_chain(GatewayFixture& g) {
  return g.chain(
      {{"log", config_map({{"access_log", "false"}})},
       {"auth", ConfigNode()},
       {"files", ConfigNode()},
       {"keys", ConfigNode()},
       {"upstream", config_map({{"base_url", kUpstream}, {"forward_upload_headers", "true"}})}});
}

Answer started() {
  Answer a = Answer::json(200, "");
  a.headers.set("x-goog-upload-url", kGoogleUrl);
  a.headers.set("x-goog-upload-control-url", kGoogleUrl);
  a.headers.set("x-goog-upload-status", "active");
  a.headers.set("x-goog-upload-chunk-granularity", "8388608");
  return a;
}

void start_headers(http::Request& r) {
  r.headers.set("x-goog-upload-protocol", "resumable");
  r.headers.set("x-goog-upload-command", "start");
  r.headers.set("x-goog-upload-header-content-length", "5");
  r.body = R"({"file":{"displayName":"d"}})";
}

// Runs a start on `chain` and returns the gateway upload URL the client got.
std::string start(GatewayFixture& g, std::shared_ptr<const ChainSpec> chain,
                  const std::string& path = "/upload/v1beta/files") {
  g.transport->script(started());
  g.run(chain, path, nullptr, start_headers);
  const std::string* url = g.h.downstream.response.headers.get("x-goog-upload-url");
  REQUIRE(url);
  return *url;
}

std::string query_of(const std::string& url) {
  return url.substr(url.find('?') + 1);
}

}  // namespace

TEST_CASE("start: Google's upload URL becomes the gateway's, upload headers go both ways") {
  GatewayFixture g;
  g.add_keys(3);
  auto chain = upload_chain(g);
  std::string url = start(g, chain);
  CHECK(url.starts_with("http://gateway.test/upload/v1beta/files?upload_id="));
  CHECK(url.ends_with("&upload_protocol=resumable"));
  CHECK(url.find("SESS1") == std::string::npos);
  CHECK(url.find("AIza") == std::string::npos);
  CHECK(url.find("googleapis") == std::string::npos);
  const http::Response& r = g.h.downstream.response;
  CHECK(r.status == 200);
  CHECK(*r.headers.get("x-goog-upload-status") == "active");
  CHECK(*r.headers.get("x-goog-upload-chunk-granularity") == "8388608");
  CHECK_FALSE(r.headers.has("x-goog-upload-control-url"));
  REQUIRE(g.transport->requests.size() == 1);
  const auto& up = g.transport->requests[0];
  CHECK(up.url == kUpstream + "/upload/v1beta/files");
  CHECK(*up.headers.get("x-goog-upload-command") == "start");
  CHECK(*up.headers.get("x-goog-upload-header-content-length") == "5");
}

TEST_CASE("a chunk on the gateway URL goes to Google's session on the start's key") {
  GatewayFixture g;
  g.add_keys(3);
  auto chain = upload_chain(g);
  std::string url = start(g, chain);
  const std::string owner = g.keys_sent().at(0);
  for (int i = 0; i < 4; ++i) {  // round robin would move on: the pin keeps the key
    Answer ok = Answer::json(200, "");
    ok.headers.set("x-goog-upload-status", "active");
    g.transport->script(ok);
    Exchange& x = g.run(chain, "/upload/v1beta/files", nullptr, [&](http::Request& r) {
      r.query = query_of(url);
      r.headers.set("x-goog-upload-command", "upload");
      r.headers.set("x-goog-upload-offset", std::to_string(i));
      r.body = "x";
    });
    CHECK(g.h.downstream.response.status == 200);
    CHECK(x.info().key_id == 1);
  }
  auto sent = g.keys_sent();
  REQUIRE(sent.size() == 5);
  for (const auto& k : sent) CHECK(k == owner);
  const auto& up = g.transport->requests.back();
  CHECK(up.url == kUpstream + "/upload/v1beta/files?upload_id=SESS1&upload_protocol=resumable");
  CHECK(*up.headers.get("x-goog-upload-offset") == "3");
}

TEST_CASE("the prefix the client used stays in its URL; Google sees none") {
  GatewayFixture g;
  g.add_keys(1);
  auto chain = upload_chain(g);
  std::string url = start(g, chain, "/gemini/upload/v1beta/files");
  CHECK(url.starts_with("http://gateway.test/gemini/upload/v1beta/files?upload_id="));
  CHECK(g.transport->requests[0].url == kUpstream + "/upload/v1beta/files");
}

TEST_CASE(
    "an id from another token, an altered one, or a command without a session: refused here") {
  GatewayFixture g;
  g.add_keys(2);
  const std::string other = "gg_other_token_0123456789abcdefgh";
  g.add_token(other, 43);
  auto chain = upload_chain(g);
  std::string url = start(g, chain);
  std::string q = query_of(url);
  std::string altered = q;
  altered[20] = altered[20] == 'A' ? 'B' : 'A';
  struct Case {
    std::string token, query;
    int status;
  };
  for (const Case& c : {Case{other, q, 404}, Case{kClientToken, altered, 404},
                        Case{kClientToken, "upload_id=", 404}, Case{kClientToken, "", 400}}) {
    g.run(chain, "/upload/v1beta/files", nullptr, [&](http::Request& r) {
      r.query = c.query;
      r.headers.set("x-goog-api-key", c.token);
      r.headers.set("x-goog-upload-protocol", "resumable");
      r.headers.set("x-goog-upload-command", "upload, finalize");
    });
    CHECK(g.h.downstream.response.status == c.status);
  }
  CHECK(g.transport->requests.size() == 1);  // only the start went upstream
}

TEST_CASE("the session's key disabled: 409 saying so, no other key") {
  GatewayFixture g;
  g.add_keys(2);
  auto chain = upload_chain(g);
  std::string url = start(g, chain);
  REQUIRE(g.pool->disable(1, std::string(pool::kDisabledByAdmin)));
  g.run(chain, "/upload/v1beta/files", nullptr, [&](http::Request& r) {
    r.query = query_of(url);
    r.headers.set("x-goog-upload-command", "query");
  });
  CHECK(g.h.downstream.response.status == 409);
  CHECK(g.h.downstream.response.body.find("disabled") != std::string::npos);
  CHECK(g.transport->requests.size() == 1);
}

TEST_CASE("without forward_upload_headers the upstream keeps its allowlist") {
  GatewayFixture g;
  g.add_keys(1);
  auto chain = g.chain({{"log", config_map({{"access_log", "false"}})},
                        {"auth", ConfigNode()},
                        {"keys", ConfigNode()},
                        {"upstream", config_map({{"base_url", kUpstream}})}});
  g.transport->script(started());
  g.run(chain, kGenerate, nullptr, start_headers);
  CHECK_FALSE(g.transport->requests.at(0).headers.has("x-goog-upload-command"));
  CHECK_FALSE(g.h.downstream.response.headers.has("x-goog-upload-url"));
}

TEST_CASE("files config: session_ttl bounds and unknown keys are reported") {
  GatewayFixture g;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"session_ttl", "0s"}, {"session_ttl", "30d"}, {"sesion_ttl", "1h"}}) {
    ConfigNode root = ConfigNode::map(mk());
    ConfigNode list = ConfigNode::sequence(mk(2, 3));
    ConfigNode item = ConfigNode::map(mk(3, 5));
    item.put("files", config_map({{key, value}}));
    list.push(item);
    ConfigNode up = ConfigNode::map(mk(4, 5));
    up.put("upstream", config_map({{"base_url", kUpstream}}));
    list.push(up);
    root.put("filters", list);
    ConfigErrors errors;
    CHECK_FALSE(build_chain("files_upload", root, g.registry, g.services, errors));
    CHECK_FALSE(errors.empty());
  }
}

TEST_CASE("no usable Host header: 400 before Google (the upload URL is built from it)") {
  GatewayFixture g;
  g.add_keys(1);
  auto chain = upload_chain(g);
  for (const char* host : {"", "evil.test/path", "a b", "x\r\ny"}) {
    g.run(chain, "/upload/v1beta/files", nullptr, [&](http::Request& r) {
      start_headers(r);
      if (*host) {
        r.headers.set("host", host);
      } else {
        r.headers.remove("host");
      }
    });
    CHECK(g.h.downstream.response.status == 400);
  }
  CHECK(g.transport->requests.empty());
}

TEST_CASE("trust_forwarded_proto: the URL says https only when configured") {
  for (bool trusted : {false, true}) {
    GatewayFixture g;
    g.add_keys(1);
    auto chain = g.chain(
        {{"log", config_map({{"access_log", "false"}})},
         {"auth", ConfigNode()},
         {"files", config_map({{"trust_forwarded_proto", trusted ? "true" : "false"}})},
         {"keys", ConfigNode()},
         {"upstream", config_map({{"base_url", kUpstream}, {"forward_upload_headers", "true"}})}});
    g.transport->script(started());
    g.run(chain, "/upload/v1beta/files", nullptr, [](http::Request& r) {
      start_headers(r);
      r.headers.set("x-forwarded-proto", "https");
    });
    const std::string* url = g.h.downstream.response.headers.get("x-goog-upload-url");
    REQUIRE(url);
    CHECK(url->starts_with(trusted ? "https://gateway.test/" : "http://gateway.test/"));
  }
}

TEST_CASE("a failed start passes Google's answer on and hands out no URL") {
  GatewayFixture g;
  g.add_keys(1);
  auto chain = upload_chain(g);
  Answer bad = Answer::json(400, google_error(400, "INVALID_ARGUMENT", "bad metadata"));
  bad.headers.set("x-goog-upload-url", kGoogleUrl);
  g.transport->script(bad);
  g.run(chain, "/upload/v1beta/files", nullptr, start_headers);
  CHECK(g.h.downstream.response.status == 400);
  CHECK_FALSE(g.h.downstream.response.headers.has("x-goog-upload-url"));
}

TEST_CASE("a quota answer on the session's key cools it: the next chunk gets 503 + Retry-After") {
  GatewayFixture g;
  g.add_keys(3);
  auto chain = upload_chain(g);
  std::string url = start(g, chain);
  auto chunk = [&] {
    g.run(chain, "/upload/v1beta/files", nullptr, [&](http::Request& r) {
      r.query = query_of(url);
      r.headers.set("x-goog-upload-command", "upload");
      r.headers.set("x-goog-upload-offset", "0");
      r.body = "x";
    });
  };
  g.transport->script(Answer::json(429, quota_body("30s")));
  chunk();
  CHECK(g.h.downstream.response.status == 429);
  CHECK(g.transport->requests.size() == 2);  // no failover to another key
  chunk();
  CHECK(g.h.downstream.response.status == 503);
  CHECK(g.h.downstream.response.headers.has("retry-after"));
  CHECK(g.transport->requests.size() == 2);
  for (const auto& k : g.keys_sent()) CHECK(k == pool_secret(1));
}
