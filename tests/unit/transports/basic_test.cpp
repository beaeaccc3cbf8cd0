// CurlMultiTransport against the loopback server: the request goes out as given, the answer
// comes back as the server sent it (decoded), streams arrive as they are produced, connections
// are reused, and nothing is retried or followed behind the caller's back.
#include <cstdlib>
#include <doctest/doctest.h>

#include "test_support.h"

using namespace gemgate::transport;
using namespace gemgate::transport::testing;

TEST_CASE("GET: status, lower-case headers, body") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto t = fx.get(server.url("/json"), r);
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.ok());
  CHECK(r.status == 200);
  CHECK(r.headers.get_or("content-type", "") == "application/json");
  CHECK(r.headers.entries().front().first == "content-type");
  CHECK(r.headers.get_or("content-length", "") == "11");  // not encoded: length still true
  CHECK(r.body == R"({"ok":true})");
  CHECK(r.out_of_order == 0);
  CHECK(fx.transport().active_transfers() == 0);
  auto seen = server.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].header("accept-encoding").find("gzip") != std::string::npos);
  t.reset();
  fx.finish();
}

TEST_CASE("POST: body and headers sent as given; no Expect, no invented content-type") {
  TestServer server;
  Fixture fx;
  Recorder r;
  std::string big(200 * 1024, 'p');  // above libcurl's 100-continue threshold for POSTs
  big[0] = '\0';                     // binary-safe: the size, not strlen, counts
  UpstreamRequest req;
  req.method = "POST";
  req.url = server.url("/echo");
  req.headers.add("x-goog-api-key", "AIzaTESTKEY");
  req.headers.add("x-empty", "");
  req.headers.add("content-length", "1");  // transport-owned: dropped, libcurl frames the body
  auto body = std::make_shared<const std::string>(big);
  req.body = body;
  auto t = fx.start(std::move(req), r);
  body.reset();  // the transfer keeps its own reference
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.ok());
  CHECK(r.body == big);
  CHECK(r.headers.get_or("x-echo-method", "") == "POST");
  auto seen = server.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("x-goog-api-key") == "AIzaTESTKEY");
  CHECK(seen[0].has("x-empty"));
  CHECK_FALSE(seen[0].has("expect"));
  CHECK_FALSE(seen[0].has("content-type"));
  CHECK(seen[0].header("content-length") == std::to_string(big.size()));
  fx.finish();
}

TEST_CASE("other methods: PUT with body, DELETE and POST without one") {
  TestServer server;
  Fixture fx;
  Recorder put, del, post;
  UpstreamRequest a;
  a.method = "PUT";
  a.url = server.url("/echo");
  a.headers.add("content-type", "application/json");
  a.body = std::make_shared<const std::string>("{}");
  UpstreamRequest b;
  b.method = "DELETE";
  b.url = server.url("/echo");
  UpstreamRequest c;
  c.method = "POST";
  c.url = server.url("/echo");
  auto ta = fx.start(std::move(a), put);
  auto tb = fx.start(std::move(b), del);
  auto tc = fx.start(std::move(c), post);
  REQUIRE(fx.run_until([&] { return put.done() && del.done() && post.done(); }));
  CHECK(put.headers.get_or("x-echo-method", "") == "PUT");
  CHECK(put.body == "{}");
  CHECK(del.headers.get_or("x-echo-method", "") == "DELETE");
  CHECK(post.headers.get_or("x-echo-method", "") == "POST");
  for (const auto& s : server.seen()) {
    if (s.method == "PUT") CHECK(s.header("content-type") == "application/json");
    if (s.method == "POST") CHECK(s.header("content-length") == "0");
  }
  fx.finish();
}

TEST_CASE("streaming: chunks arrive as the server produces them, in order") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto t = fx.get(server.url("/stream?chunks=5&interval_ms=100&size=10"), r);
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.ok());
  CHECK(r.body == "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee");
  // The server writes 5 chunks 100 ms apart. Delivered as they come, they arrive in several
  // pieces spread over that time; buffered to the end they would be one piece. (Only a stall of
  // the whole test process could merge neighbours, so no per-gap timing is asserted.)
  REQUIRE(r.chunks >= 2);
  CHECK(r.head_at <= r.chunk_at.front());
  CHECK(ms_between(r.chunk_at.front(), r.chunk_at.back()) >= 100);
  CHECK(r.headers.get("transfer-encoding") == nullptr);  // libcurl removed the framing
  fx.finish();
}

TEST_CASE("gzip: libcurl decodes, and the head no longer claims an encoding or length") {
  TestServer server;
  Fixture fx;
  Recorder r;
  const uint64_t kBytes = 300000;
  auto t =
      fx.get(server.url("/big?gzip=1&compressible=1&seed=3&bytes=" + std::to_string(kBytes)), r);
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.ok());
  CHECK(r.body.size() == kBytes);
  CHECK(fnv1a(kFnvBasis, r.body) == big_checksum(kBytes, 3, true));
  CHECK(r.headers.get("content-encoding") == nullptr);
  CHECK(r.headers.get("content-length") == nullptr);
  CHECK(server.big_bytes_sent() < kBytes / 10);  // it really was compressed on the wire
  fx.finish();
}

TEST_CASE("interim 1xx heads are skipped; redirects are not followed") {
  TestServer server;
  Fixture fx;
  Recorder interim, redirect;
  auto a = fx.get(server.url("/interim"), interim);
  auto b = fx.get(server.url("/redirect"), redirect);
  REQUIRE(fx.run_until([&] { return interim.done() && redirect.done(); }));
  CHECK(interim.ok());
  CHECK(interim.heads == 1);
  CHECK(interim.status == 200);
  CHECK_FALSE(interim.headers.has("link"));
  CHECK(redirect.ok());
  CHECK(redirect.status == 302);
  CHECK(redirect.headers.get_or("location", "") == "/json");
  CHECK(server.requests() == 2);  // nobody fetched /json
  fx.finish();
}

TEST_CASE("sequential keep-alive requests reuse one connection") {
  TestServer server;
  Fixture fx;
  const int kRequests = 10;
  int completed = 0;
  Recorder r;
  std::unique_ptr<Transfer> t;
  // Each request starts from inside the previous one's done callback.
  r.on_done = [&] {
    if (r.failure) return;
    if (++completed < kRequests) {
      r.dones = 0;
      r.heads = 0;
      r.body.clear();
      t = fx.get(server.url("/json"), r);
    }
  };
  t = fx.get(server.url("/json"), r);
  REQUIRE(fx.run_until([&] { return completed == kRequests || r.failure; }));
  CHECK(completed == kRequests);
  CHECK(server.requests() == kRequests);
  CHECK(server.connections() == 1);
  fx.finish();
}

TEST_CASE("a pooled connection the server closes while idle: no busy loop, next request works") {
  TestServer server;
  Fixture fx;
  Recorder first;
  std::unique_ptr<Transfer> t = fx.get(server.url("/json_then_close"), first);
  REQUIRE(fx.run_until([&] { return first.done(); }));
  CHECK(first.ok());
  // The server's FIN makes the idle socket readable. Nobody wants it (libcurl keeps it in its
  // cache unwatched), so the poll must stop instead of waking the loop on every turn.
  uv_prepare_t turns_counter;
  int turns = 0;
  uv_prepare_init(fx.loop(), &turns_counter);
  turns_counter.data = &turns;
  uv_prepare_start(&turns_counter, [](uv_prepare_t* h) { ++*static_cast<int*>(h->data); });
  fx.run_for(300);
  uv_prepare_stop(&turns_counter);
  uv_close(reinterpret_cast<uv_handle_t*>(&turns_counter), nullptr);
  CHECK(turns < 1000);  // run_for ticks every 2 ms (~150 turns); a woken loop spins far more
  CHECK(fx.transport().stats().socket_actions < 50);
  Recorder second;
  t = fx.get(server.url("/json"), second);
  REQUIRE(fx.run_until([&] { return second.done(); }));
  CHECK(second.ok());
  CHECK(second.body == R"({"ok":true})");
  CHECK(server.connections() == 2);  // the dead connection was not reused
  fx.finish();
}

TEST_CASE("200 concurrent transfers all complete") {
  TestServer server;
  Fixture fx;
  const int kTransfers = 200;
  std::vector<Recorder> recorders(kTransfers);
  std::vector<std::unique_ptr<Transfer>> transfers;
  for (int i = 0; i < kTransfers; ++i) {
    const char* path = i % 2 ? "/json" : "/stream?chunks=3&interval_ms=20&size=100";
    transfers.push_back(fx.get(server.url(path), recorders[i]));
  }
  CHECK(fx.transport().active_transfers() == kTransfers);
  auto all_done = [&] {
    for (auto& r : recorders) {
      if (!r.done()) return false;
    }
    return true;
  };
  REQUIRE(fx.run_until(all_done, 20000));
  int ok = 0;
  for (auto& r : recorders) ok += r.ok() && r.out_of_order == 0 ? 1 : 0;
  CHECK(ok == kTransfers);
  CHECK(fx.transport().active_transfers() == 0);
  CHECK(fx.transport().open_sockets() == 0);
  auto stats = fx.transport().stats();
  CHECK(stats.succeeded == kTransfers);
  CHECK(stats.pooled_handles > 0);
  MESSAGE("connections used: " << server.connections());
  fx.finish();
}

TEST_CASE("proxy: \"\" ignores the environment's proxy; an explicit proxy is used") {
  TestServer server;
  ::setenv("http_proxy", "http://127.0.0.1:9", 1);  // would refuse every connection
  ::setenv("HTTP_PROXY", "http://127.0.0.1:9", 1);
  Fixture fx;
  Recorder direct, proxied;
  auto a = fx.get(server.url("/json"), direct);
  UpstreamRequest req;
  req.method = "GET";
  req.url = "http://upstream.invalid/v1/x";
  req.proxy = server.url("");
  auto b = fx.start(std::move(req), proxied);
  REQUIRE(fx.run_until([&] { return direct.done() && proxied.done(); }));
  ::unsetenv("http_proxy");
  ::unsetenv("HTTP_PROXY");
  CHECK(direct.ok());
  CHECK(proxied.ok());
  CHECK(proxied.body == "proxied");
  bool saw_absolute = false;
  for (const auto& s : server.seen()) saw_absolute |= s.target == "http://upstream.invalid/v1/x";
  CHECK(saw_absolute);
  fx.finish();
}

// configure() sets URL, proxy and NOPROXY only when they differ from what the pooled handle
// last had: each change must still reach libcurl, in both directions, one transfer after another
// on the same handle.
TEST_CASE("a reused handle follows the URL and proxy of each transfer") {
  TestServer server;
  Fixture fx;
  auto run = [&](std::string url, std::string proxy) {
    Recorder r;
    UpstreamRequest req;
    req.method = "GET";
    req.url = std::move(url);
    req.proxy = std::move(proxy);
    auto t = fx.start(std::move(req), r);
    REQUIRE(fx.run_until([&] { return r.done(); }));
    CHECK(r.ok());
    return r.body;
  };
  std::string direct = server.url("/json");
  std::string proxied_url = "http://upstream.invalid/v1/x";
  CHECK(run(direct, "") != "proxied");
  CHECK(run(direct, "") != "proxied");
  CHECK(run(proxied_url, server.url("")) == "proxied");
  CHECK(run(direct, "") != "proxied");
  CHECK(run(server.url("/echo"), "") != "proxied");
  CHECK(fx.transport().stats().pooled_handles == 1);  // one handle did all five
  auto seen = server.seen();
  REQUIRE(seen.size() == 5);
  const char* targets[] = {"/json", "/json", "http://upstream.invalid/v1/x", "/json", "/echo"};
  for (size_t i = 0; i < seen.size(); ++i) {
    CAPTURE(i);
    CHECK(seen[i].target == targets[i]);
  }
  fx.finish();
}

TEST_CASE("setup failures arrive later through done, never inside start()") {
  Fixture fx;
  Recorder bad_url, bad_header, bad_method;
  bool inside_start = true;
  for (Recorder* r : {&bad_url, &bad_header, &bad_method}) {
    r->on_done = [&] { CHECK_FALSE(inside_start); };
  }
  auto a = fx.get("ftp://127.0.0.1/x?key=SECRET", bad_url);
  UpstreamRequest h;
  h.url = "http://127.0.0.1:1/";
  h.headers.add("x-evil", "a\r\nInjected: 1");
  auto b = fx.start(std::move(h), bad_header);
  UpstreamRequest m;
  m.url = "http://127.0.0.1:1/";
  m.method = "GET /x HTTP/1.1";
  auto c = fx.start(std::move(m), bad_method);
  inside_start = false;
  REQUIRE(fx.run_until([&] { return bad_url.done() && bad_header.done() && bad_method.done(); }));
  for (Recorder* r : {&bad_url, &bad_header, &bad_method}) {
    REQUIRE(r->failure);
    CHECK(r->failure->kind == FailureKind::kInternal);
    CHECK(r->failure->message.find("SECRET") == std::string::npos);
    CHECK(r->heads == 0);
  }
  CHECK(fx.transport().active_transfers() == 0);
  fx.finish();
}

// Pooled easy handles are not reset between transfers (transports/curl_easy_setup.cpp sets every
// per-request option each time), so nothing of one transfer may leak into the next: method,
// body, fields, the own-socket rule of refuse_private_addresses.
TEST_CASE("a reused handle carries nothing over from its previous transfer") {
  TestServer server;
  Fixture fx;
  auto run = [&](UpstreamRequest req) {
    Recorder r;
    auto t = fx.start(std::move(req), r);
    REQUIRE(fx.run_until([&] { return r.done(); }));
    return r.ok();
  };
  auto request = [&](const char* method, const char* body) {
    UpstreamRequest req;
    req.method = method;
    req.url = server.url("/echo");
    if (body) req.body = std::make_shared<const std::string>(body);
    return req;
  };
  UpstreamRequest put = request("PUT", "{\"a\":1}");
  put.headers.add("content-type", "application/json");
  put.headers.add("x-first", "1");
  CHECK(run(std::move(put)));
  CHECK(run(request("HEAD", nullptr)));
  CHECK(run(request("GET", nullptr)));
  CHECK(run(request("DELETE", nullptr)));
  CHECK(run(request("POST", nullptr)));
  CHECK(run(request("POST", "xyz")));
  UpstreamRequest guarded = request("GET", nullptr);
  guarded.refuse_private_addresses = true;  // loopback: refused when the socket would open
  CHECK_FALSE(run(std::move(guarded)));
  CHECK(run(request("GET", nullptr)));  // may use the pooled connection again

  auto seen = server.seen();
  REQUIRE(seen.size() == 7);
  const char* methods[] = {"PUT", "HEAD", "GET", "DELETE", "POST", "POST", "GET"};
  for (size_t i = 0; i < seen.size(); ++i) {
    CAPTURE(i);
    CHECK(seen[i].method == methods[i]);
    if (i > 0) CHECK_FALSE(seen[i].has("x-first"));
  }
  CHECK(seen[0].body == "{\"a\":1}");
  CHECK(seen[0].header("content-type") == "application/json");
  for (size_t i : {1, 2, 3, 6}) {
    CAPTURE(i);
    CHECK(seen[i].body.empty());
    CHECK_FALSE(seen[i].has("content-type"));
    CHECK_FALSE(seen[i].has("content-length"));
    CHECK_FALSE(seen[i].has("transfer-encoding"));
  }
  CHECK(seen[4].header("content-length") == "0");
  CHECK(seen[5].body == "xyz");
  CHECK(seen[5].header("content-length") == "3");
  CHECK_FALSE(seen[5].has("content-type"));
  // FRESH_CONNECT / FORBID_REUSE of the refused transfer did not stay on the handle.
  CHECK(server.connections() == 1);
  fx.finish();
}
