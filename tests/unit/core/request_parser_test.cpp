// RequestParser: well-formed requests (whole and byte by byte), pipelining, keep-alive, and the
// inputs a strict HTTP/1.1 front end must refuse, each with its status.
#include "core/server/request_parser.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <string>

#include "tests/unit/support/printers.h"

using namespace gemgate;
using namespace gemgate::server;
using State = RequestParser::State;

namespace {

struct Outcome {
  State state = State::kNeedMore;
  int status = 0;         // error status when kError
  std::string message;    // error message when kError
  size_t consumed = 0;    // bytes used up to kComplete/kError
  http::Request request;  // when kComplete
  bool keep_alive = false;
};

Outcome finish(RequestParser& p, State st, size_t consumed) {
  Outcome o;
  o.state = st;
  o.consumed = consumed;
  if (st == State::kError) {
    o.status = p.error_status();
    o.message = p.error_message();
  }
  if (st == State::kComplete) {
    o.keep_alive = p.keep_alive();
    o.request = p.take_request();
  }
  return o;
}

Outcome parse_whole(const std::string& in, const ServerLimits& limits = {}) {
  RequestParser p(limits);
  size_t used = 0;
  State st = p.feed(in.data(), in.size(), &used);
  return finish(p, st, used);
}

Outcome parse_bytes(const std::string& in, const ServerLimits& limits = {}) {
  RequestParser p(limits);
  size_t total = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    size_t used = 0;
    State st = p.feed(in.data() + i, 1, &used);
    total += used;
    if (st != State::kNeedMore) return finish(p, st, total);
  }
  return finish(p, State::kNeedMore, total);
}

// Checks that both ways of feeding `in` end in the error `status`.
void expect_refused(const std::string& in, int status, const ServerLimits& limits = {}) {
  Outcome whole = parse_whole(in, limits);
  Outcome bytes = parse_bytes(in, limits);
  INFO("whole: " << whole.message << " / bytes: " << bytes.message);
  CHECK(whole.state == State::kError);
  CHECK(whole.status == status);
  CHECK(bytes.state == State::kError);
  CHECK(bytes.status == status);
}

const std::string kPost =
    "POST /v1beta/models/m:generateContent?alt=sse HTTP/1.1\r\nHost: gw\r\n"
    "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"xyz\"}";

}  // namespace

TEST_CASE("a simple GET, whole and byte by byte") {
  std::string in = "GET /healthz HTTP/1.1\r\nHost: example\r\nX-A: 1\r\n\r\n";
  for (const Outcome& o : {parse_whole(in), parse_bytes(in)}) {
    REQUIRE(o.state == State::kComplete);
    CHECK(o.consumed == in.size());
    CHECK(o.request.method == "GET");
    CHECK(o.request.path == "/healthz");
    CHECK(o.request.query.empty());
    CHECK(o.request.version_minor == 1);
    CHECK(*o.request.headers.get("x-a") == "1");
    CHECK(o.request.body.empty());
    CHECK(o.keep_alive);
  }
}

TEST_CASE("a POST with Content-Length: path, query and body") {
  for (const Outcome& o : {parse_whole(kPost), parse_bytes(kPost)}) {
    REQUIRE(o.state == State::kComplete);
    CHECK(o.request.path == "/v1beta/models/m:generateContent");
    CHECK(o.request.query == "alt=sse");
    CHECK(o.request.body == "{\"a\":\"xyz\"}");
    CHECK(o.request.target() == "/v1beta/models/m:generateContent?alt=sse");
  }
}

TEST_CASE("a chunked POST is reassembled") {
  std::string in =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;name=val\r\n world\r\n0\r\n\r\n";
  for (const Outcome& o : {parse_whole(in), parse_bytes(in)}) {
    REQUIRE(o.state == State::kComplete);
    CHECK(o.request.body == "hello world");
    CHECK(o.consumed == in.size());
  }
}

TEST_CASE("chunked trailers are never merged into the request's headers") {
  std::string in =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nhi\r\n0\r\nX-Goog-Api-Key: smuggled\r\nHost: evil\r\nContent-Type: text/evil\r\n\r\n";
  for (const Outcome& o : {parse_whole(in), parse_bytes(in)}) {
    REQUIRE(o.state == State::kComplete);
    CHECK(o.request.body == "hi");
    CHECK_FALSE(o.request.headers.has("x-goog-api-key"));
    CHECK_FALSE(o.request.headers.has("content-type"));
    CHECK(o.request.headers.count("host") == 1);
    CHECK(*o.request.headers.get("host") == "a");
  }
}

TEST_CASE("pipelined requests: kComplete stops at the first; the rest parses after take_request") {
  std::string in =
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" + kPost + "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
  ServerLimits limits;
  RequestParser p(limits);
  std::vector<std::string> paths;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t used = 0;
    State st = p.feed(in.data() + pos, in.size() - pos, &used);
    REQUIRE(st == State::kComplete);
    pos += used;
    paths.push_back(p.take_request().path);
  }
  CHECK(paths == std::vector<std::string>{"/a", "/v1beta/models/m:generateContent", "/c"});
}

TEST_CASE("an empty line before the request line is ignored; tabs inside values are fine") {
  std::string in = "\r\nGET /a HTTP/1.1\r\nHost: h\r\nX-A: one\ttwo\r\n\r\n";
  for (const Outcome& o : {parse_whole(in), parse_bytes(in)}) {
    REQUIRE(o.state == State::kComplete);
    CHECK(*o.request.headers.get("x-a") == "one\ttwo");
  }
}

TEST_CASE("the head checks restart for each pipelined request") {
  std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n\n\n\n";
  std::string second = "GET /b HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n";
  ServerLimits limits;
  RequestParser p(limits);
  std::string in = first + second;
  size_t used = 0;
  REQUIRE(p.feed(in.data(), in.size(), &used) == State::kComplete);  // LFs in a body are data
  CHECK(p.take_request().body == "\n\n\n");
  CHECK(used == first.size());
  CHECK(p.feed(in.data() + used, in.size() - used, &used) == State::kError);  // bare LF in head 2
  CHECK(p.error_status() == 400);
}

TEST_CASE("keep-alive: 1.1 by default, 1.0 only when asked, never after Connection: close") {
  CHECK(parse_whole("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
  CHECK_FALSE(parse_whole("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive);
  Outcome old = parse_whole("GET / HTTP/1.0\r\n\r\n");  // no Host needed on 1.0
  REQUIRE(old.state == State::kComplete);
  CHECK(old.request.version_minor == 0);
  CHECK_FALSE(old.keep_alive);
  CHECK(parse_whole("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
}

TEST_CASE("Expect: 100-continue is reported only when a body follows") {
  ServerLimits limits;
  RequestParser p(limits);
  std::string head =
      "POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  size_t used = 0;
  CHECK(p.feed(head.data(), head.size(), &used) == State::kNeedMore);
  CHECK(p.head_complete());
  CHECK(p.in_request());
  CHECK(p.wants_continue());
  CHECK(p.feed("ok", 2, &used) == State::kComplete);
  CHECK(p.take_request().body == "ok");
  CHECK_FALSE(p.in_request());
}

TEST_CASE("an absolute-form target is accepted when its authority matches Host") {
  Outcome o =
      parse_whole("GET http://gw.example/v1beta/models?x=1 HTTP/1.1\r\nHost: GW.example\r\n\r\n");
  REQUIRE(o.state == State::kComplete);
  CHECK(o.request.path == "/v1beta/models");
  CHECK(o.request.query == "x=1");
}

TEST_CASE("framing smuggling is refused with 400") {
  SUBCASE("Content-Length and Transfer-Encoding together") {
    expect_refused(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        400);
  }
  SUBCASE("two different Content-Length") {
    expect_refused(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400);
  }
  SUBCASE("two equal Content-Length") {
    expect_refused(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400);
  }
  SUBCASE("Content-Length list") {
    expect_refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello", 400);
  }
  SUBCASE("signed Content-Length") {
    expect_refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello", 400);
  }
  SUBCASE("Transfer-Encoding other than chunked") {
    expect_refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
                   400);
  }
  SUBCASE("Transfer-Encoding on HTTP/1.0") {
    expect_refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  }
  SUBCASE("obs-fold continuation line") {
    expect_refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n", 400);
  }
  SUBCASE("obs-fold with a tab") {
    expect_refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n", 400);
  }
  SUBCASE("whitespace before the first header") {
    expect_refused("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
  }
  SUBCASE("bare LF between header lines") {
    expect_refused("GET / HTTP/1.1\r\nHost: h\nX-A: 1\r\n\r\n", 400);
  }
  SUBCASE("bare LF after the request line") {
    expect_refused("GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
  }
  SUBCASE("bare LF ending the head") {
    expect_refused("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
  }
  SUBCASE("bare CR inside a header value") {
    expect_refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: \rTransfer-Encoding: chunked\r\n\r\n", 400);
  }
  SUBCASE("space before the colon") {
    expect_refused("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
  }
  SUBCASE("empty header name") {
    expect_refused("GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n", 400);
  }
  SUBCASE("invalid chunk size") {
    expect_refused(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400);
  }
  SUBCASE("chunk size with 0x prefix") {
    expect_refused(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        400);
  }
  SUBCASE("chunk data longer than its size") {
    expect_refused(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
        400);
  }
  SUBCASE("chunk line ended by bare LF") {
    expect_refused(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        400);
  }
}

TEST_CASE("chunk extensions beyond the limit: 400") {
  ServerLimits limits;
  limits.max_chunk_extension_bytes = 64;
  std::string ok = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
                   std::string(30, 'a') + "=" + std::string(30, 'b') + "\r\nx\r\n0\r\n\r\n";
  CHECK(parse_whole(ok, limits).state == State::kComplete);
  std::string big = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
                    std::string(40, 'a') + "=" + std::string(40, 'b') + "\r\nx\r\n0\r\n\r\n";
  expect_refused(big, 400, limits);
}

TEST_CASE("size limits: 414 for the target, 431 for the head and the header count") {
  ServerLimits limits;
  limits.max_url_bytes = 64;
  limits.max_header_bytes = 256;
  limits.max_headers = 5;
  std::string path(64, 'a');
  path[0] = '/';
  CHECK(parse_whole("GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n", limits).state ==
        State::kComplete);
  expect_refused("GET " + path + "b HTTP/1.1\r\nHost: h\r\n\r\n", 414, limits);
  expect_refused("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(300, 'v') + "\r\n\r\n", 431,
                 limits);
  std::string four = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  CHECK(parse_whole(four, limits).state == State::kComplete);
  expect_refused("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431,
                 limits);
}

TEST_CASE("body limits: 413 on a too large Content-Length before any body byte, and on chunks") {
  ServerLimits limits;
  limits.max_body_bytes = 10;
  std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
  RequestParser p(limits);
  size_t used = 0;
  CHECK(p.feed(head.data(), head.size(), &used) == State::kError);  // no body byte sent yet
  CHECK(p.error_status() == 413);
  CHECK(parse_whole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits)
            .state == State::kComplete);
  std::string chunked =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
      "chunked\r\n\r\n6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n";
  expect_refused(chunked, 413, limits);
}

TEST_CASE("Host rules: required on 1.1, only one, and matching an absolute-form target") {
  expect_refused("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400);
  expect_refused("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  expect_refused("GET http://evil.example/ HTTP/1.1\r\nHost: good.example\r\n\r\n", 400);
}

TEST_CASE("methods and versions the gateway does not speak") {
  expect_refused("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501);
  expect_refused("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400);
  expect_refused("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_refused("GET /../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_refused("GET /a%2fb HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST_CASE("an error is sticky: later input is refused too") {
  ServerLimits limits;
  RequestParser p(limits);
  std::string bad = "GET / HTTP/1.1\r\nHost : h\r\n\r\n";
  size_t used = 0;
  REQUIRE(p.feed(bad.data(), bad.size(), &used) == State::kError);
  std::string good = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(p.feed(good.data(), good.size(), &used) == State::kError);
  CHECK(used == 0);
}

TEST_CASE("stop_at_heads: the head is handed over before any body byte is consumed") {
  ServerLimits limits;  // the parser keeps a reference
  RequestParser p(limits);
  p.stop_at_heads(true);
  std::string head = "POST /v1/x?key=k HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
  std::string in = head + "hello" + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  size_t used = 0;
  REQUIRE(p.feed(in.data(), in.size(), &used) == State::kHead);
  CHECK(used == head.size());
  CHECK(p.body_expected());
  CHECK(p.keep_alive());
  CHECK(p.body_size() == 0);
  http::Request h = p.take_head();
  CHECK(h.method == "POST");
  CHECK(h.path == "/v1/x");
  CHECK(h.query == "key=k");
  CHECK(h.headers.get_or("content-length", "") == "5");
  in.erase(0, used);
  REQUIRE(p.feed(in.data(), in.size(), &used) == State::kComplete);
  http::Request rest = p.take_request();
  CHECK(rest.body == "hello");
  CHECK(rest.method.empty());
  in.erase(0, used);
  // A body-less request: kHead, then an empty feed completes it.
  REQUIRE(p.feed(in.data(), in.size(), &used) == State::kHead);
  CHECK(!p.body_expected());
  CHECK(p.take_head().path == "/next");
  in.erase(0, used);
  CHECK(in.empty());
  CHECK(p.feed(in.data(), 0, &used) == State::kComplete);
  CHECK(p.take_request().body.empty());
}

TEST_CASE("stop_at_heads byte by byte, and Connection: close known at the head") {
  ServerLimits limits;  // the parser keeps a reference
  RequestParser p(limits);
  p.stop_at_heads(true);
  std::string in = "POST / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
  size_t i = 0, used = 0;
  State st = State::kNeedMore;
  for (; i < in.size() && st == State::kNeedMore; ++i) st = p.feed(in.data() + i, 1, &used);
  REQUIRE(st == State::kHead);
  CHECK(i == in.size() - 2);
  CHECK(!p.keep_alive());
  p.take_head();
  CHECK(p.feed(in.data() + i, 0, &used) == State::kNeedMore);
  CHECK(p.feed(in.data() + i, 2, &used) == State::kComplete);
  CHECK(p.take_request().body == "ok");
}

TEST_CASE("a fragment in the request target is refused") {
  expect_refused("GET /v1beta/models/m:streamGenerateContent#x?alt=sse HTTP/1.1\r\nHost: h\r\n\r\n",
                 400);
  expect_refused("GET /a?b=c#d HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST_CASE("a route's own body limit: judged by the caller at the head, enforced per chunk") {
  ServerLimits limits;
  limits.max_body_bytes = 10;
  RequestParser p(limits);
  p.stop_at_heads(true);
  std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n";
  size_t used = 0;
  // Over the server limit, but the route may allow more: the caller decides (set_body_limit).
  REQUIRE(p.feed(head.data(), head.size(), &used) == State::kHead);
  CHECK(p.content_length() == 20);
  CHECK(p.content_length_exceeds_limit());
  p.set_body_limit(32);
  CHECK_FALSE(p.content_length_exceeds_limit());
  p.take_head();
  std::string body(20, 'b');
  CHECK(p.feed(body.data(), 8, &used) == State::kNeedMore);
  // Bytes taken on by the caller (a streamed body) still count.
  CHECK(p.body_bytes() == std::string(8, 'b'));
  p.drop_body_bytes();
  CHECK(p.body_size() == 8);
  REQUIRE(p.feed(body.data() + 8, 12, &used) == State::kComplete);
  CHECK(p.body_size() == 20);
  CHECK(p.take_request().body == std::string(12, 'b'));
  CHECK(p.body_limit() == 10);  // the next request starts with the server's limit again

  // Chunked: the crossing chunk is refused, with the route's limit in the message.
  RequestParser c(limits);
  c.stop_at_heads(true);
  std::string chunked_head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  REQUIRE(c.feed(chunked_head.data(), chunked_head.size(), &used) == State::kHead);
  CHECK(c.content_length() == -1);
  c.set_body_limit(12);
  c.take_head();
  std::string chunks = "8\r\n12345678\r\n";
  CHECK(c.feed(chunks.data(), chunks.size(), &used) == State::kNeedMore);
  c.drop_body_bytes();
  std::string crossing = "5\r\nabcde\r\n";
  CHECK(c.feed(crossing.data(), crossing.size(), &used) == State::kError);
  CHECK(c.error_status() == 413);
  CHECK(c.error_message().find("12 bytes") != std::string::npos);
}

namespace {
// Feeds `in` as two pieces split at `at`; returns the outcome of the last feed that ended it.
Outcome parse_split(const std::string& in, size_t at) {
  const ServerLimits limits;  // the parser keeps a reference: it must outlive it
  RequestParser p(limits);
  size_t used = 0;
  State st = p.feed(in.data(), at, &used);
  if (st != State::kNeedMore) return finish(p, st, used);
  size_t first = used;
  st = p.feed(in.data() + at, in.size() - at, &used);
  return finish(p, st, first + used);
}
}  // namespace

TEST_CASE("the head's line checks hold wherever the input is split (the scan skips whole runs)") {
  const std::string bad[] = {
      "GET / HTTP/1.1\r\nHost: h\r\nX-Long-Name: a value of some length\rX: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Long-Name: a value of some length\nX: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Long-Name: a value of some length\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Long-Name: a value of some length\r\n: nameless\r\n\r\n",
      "GET /a/fairly/long/path/with/segments HTTP/1.1\r\rHost: h\r\n\r\n",
  };
  for (const std::string& in : bad) {
    for (size_t at = 0; at <= in.size(); ++at) {
      Outcome o = parse_split(in, at);
      INFO("input " << in << " split at " << at << ": " << o.message);
      CHECK(o.state == State::kError);
      CHECK(o.status == 400);
      CHECK(o.message.find("malformed HTTP request") == 0);
    }
  }
  for (size_t at = 0; at <= kPost.size(); ++at) {
    Outcome o = parse_split(kPost, at);
    INFO("split at " << at);
    REQUIRE(o.state == State::kComplete);
    CHECK(o.request.path == "/v1beta/models/m:generateContent");
    CHECK(o.request.headers.size() == 3);
    CHECK(o.request.body == "{\"a\":\"xyz\"}");
  }
}

TEST_CASE("a head that arrives whole gets a field list of its size and one spare") {
  Outcome whole = parse_whole(kPost);
  REQUIRE(whole.state == State::kComplete);
  CHECK(whole.request.headers.size() == 3);
  CHECK(whole.request.headers.entries().capacity() == 4);
  // The spare takes the field a gateway chain adds (the pool key) without a reallocation.
  const http::HeaderMap::Entry* before = whole.request.headers.entries().data();
  whole.request.headers.set("x-goog-api-key", "k");
  CHECK(whole.request.headers.entries().data() == before);
  // In pieces the count is not known at the first field: the usual reserve, then growth.
  Outcome bytes = parse_bytes(kPost);
  REQUIRE(bytes.state == State::kComplete);
  CHECK(bytes.request.headers.size() == 3);
  CHECK(bytes.request.headers.entries().capacity() >= 3);
}

TEST_CASE("a body of known length is held in a string of its size, however it arrives") {
  // The body is kept while its request runs (a stream: as long as the answer flows), so the
  // doubling growth of append must not leave it in up to twice its size.
  for (size_t size : {size_t{100}, size_t{64 * 1024}, size_t{200'001}}) {
    const std::string body(size, 'b');
    const std::string in =
        "POST /v1beta/models/m:streamGenerateContent HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: " +
        std::to_string(size) + "\r\n\r\n" + body;
    for (size_t piece : {size_t{1000}, size_t{16 * 1024}, in.size()}) {
      INFO("body " << size << ", fed in pieces of " << piece);
      const ServerLimits limits;  // the parser keeps a reference
      RequestParser p(limits);
      State st = State::kNeedMore;
      for (size_t at = 0; at < in.size() && st == State::kNeedMore; at += piece) {
        size_t used = 0;
        st = p.feed(in.data() + at, std::min(piece, in.size() - at), &used);
      }
      REQUIRE(st == State::kComplete);
      http::Request r = p.take_request();
      CHECK(r.body == body);
      CHECK(r.body.capacity() == std::max(size, std::string().capacity()));
    }
  }
}
