// HTTP helpers: path normalisation (the routing security boundary), query parameters, HeaderMap,
// reason phrases, hop-by-hop names, and core's JSON error shape / JSON quoting.
#include <doctest/doctest.h>

#include "core/chain.h"
#include "core/http/message.h"
#include "core/json.h"
#include "core/text.h"
#include "tests/unit/support/printers.h"

using namespace gemgate;
using namespace gemgate::http;

TEST_CASE("normalize_path resolves dot segments and merges slashes") {
  CHECK(normalize_path("/").value() == "/");
  CHECK(normalize_path("/a/b").value() == "/a/b");
  CHECK(normalize_path("//a///b").value() == "/a/b");
  CHECK(normalize_path("/a/./b/../c").value() == "/a/c");
  CHECK(normalize_path("/a/b/").value() == "/a/b/");
  CHECK(normalize_path("/a/..").value() == "/");
  CHECK(normalize_path("/v1beta/models/gemini-2.5-flash:generateContent").value() ==
        "/v1beta/models/gemini-2.5-flash:generateContent");
}

TEST_CASE("normalize_path: paths already normal come back as they are; the rest still resolve") {
  // The fast path (nothing to decode, merge or resolve) must agree with the full one.
  CHECK(normalize_path("/a/b/").value() == "/a/b/");
  CHECK(normalize_path("/a/b.c/..d/...").value() == "/a/b.c/..d/...");  // dots inside names
  CHECK(normalize_path("/a//").value() == "/a/");
  CHECK(normalize_path("/a/.").value() == "/a");
  CHECK(normalize_path("/a/b/..").value() == "/a");
  CHECK(normalize_path("/.hidden/x").value() == "/.hidden/x");
  CHECK_FALSE(normalize_path("/..").has_value());
  CHECK_FALSE(normalize_path(std::string_view("/a\0b", 4)).has_value());
  CHECK_FALSE(normalize_path("/a\\b").has_value());
}

TEST_CASE("normalize_path decodes unreserved escapes (so %2e%2e is a dot segment)") {
  CHECK(normalize_path("/%61dmin").value() == "/admin");
  CHECK(normalize_path("/a/%2e%2e/b").value() == "/b");
  CHECK(normalize_path("/a/%2E/b").value() == "/a/b");
  CHECK(normalize_path("/x%20y").value() == "/x%20y");  // reserved stays encoded
  CHECK(normalize_path("/x%3ay").value() == "/x%3Ay");  // and is upper-cased
}

TEST_CASE("normalize_path refuses what could bypass a prefix check") {
  for (const char* bad : {"", "a/b", "*", "/..", "/a/../..", "/%2e%2e/admin", "/a%2fb", "/a%2Fb",
                          "/a%5cb", "/a\\b", "/a%00", "/a%", "/a%4", "/a%zz"}) {
    CAPTURE(bad);
    CHECK_FALSE(normalize_path(bad).has_value());
  }
}

TEST_CASE("query_param decodes; remove_query_param removes every copy and keeps the rest") {
  Request r;
  r.query = "alt=sse&key=AIza%2Bx&b=c+d&key=second&flag";
  CHECK(r.query_param("key").value() == "AIza+x");
  CHECK(r.query_param("b").value() == "c d");
  CHECK(r.query_param("flag").value() == "");
  CHECK_FALSE(r.query_param("missing").has_value());
  CHECK(r.remove_query_param("key"));
  CHECK(r.query == "alt=sse&b=c+d&flag");
  CHECK_FALSE(r.remove_query_param("key"));
  r.query = "%6Bey=secret";  // an encoded name is the same parameter
  CHECK(r.query_param("key").value() == "secret");
  CHECK(r.remove_query_param("key"));
  CHECK(r.query.empty());
  r.path = "/p";
  CHECK(r.target() == "/p");
  r.query = "a=1";
  CHECK(r.target() == "/p?a=1");
}

TEST_CASE("percent_decode") {
  CHECK(percent_decode("a%20b+c", false).value() == "a b+c");
  CHECK(percent_decode("a%20b+c", true).value() == "a b c");
  CHECK_FALSE(percent_decode("%g0", true).has_value());
  CHECK_FALSE(percent_decode("%2", true).has_value());
}

TEST_CASE("HeaderMap: case-insensitive, ordered, set replaces all, add appends") {
  HeaderMap h;
  h.add("X-Key", "1");
  h.add("x-key", "2");
  h.add("Other", "o");
  CHECK(*h.get("X-KEY") == "1");
  CHECK(h.count("x-key") == 2);
  CHECK(h.get_or("missing", "fb") == "fb");
  h.set("X-KEY", "3");
  CHECK(h.count("x-key") == 1);
  CHECK(*h.get("x-key") == "3");
  CHECK(h.entries().front().first == "Other");  // set appends the new field at the end
  CHECK(h.remove("other") == 1);
  CHECK(h.remove("other") == 0);
  CHECK(h.size() == 1);
  CHECK(iequals("Content-Type", "content-type"));
  CHECK_FALSE(iequals("content-type", "content-typ"));
}

TEST_CASE("istarts_with compares ASCII letters case-insensitively, on both sides") {
  CHECK(text::istarts_with("Bearer abc", "bearer "));
  CHECK(text::istarts_with("HTTPS://x", "https://"));
  CHECK(text::istarts_with("postgres://", "POSTGRES"));
  CHECK(text::istarts_with("abc", ""));
  CHECK_FALSE(text::istarts_with("Bear", "bearer "));
  CHECK_FALSE(text::istarts_with("\xc3\x89t\xc3\xa9", "\xc3\xa9"));  // only ASCII letters fold
}

TEST_CASE("hop-by-hop and framing fields are recognised in any case") {
  for (const char* n : {"Connection", "keep-alive", "Transfer-Encoding", "TE", "Upgrade",
                        "content-length", "Host", "Proxy-Authorization", "Trailer", "expect"}) {
    CAPTURE(n);
    CHECK(is_hop_by_hop(n));
  }
  CHECK_FALSE(is_hop_by_hop("content-type"));
  CHECK_FALSE(is_hop_by_hop("x-goog-api-key"));
}

TEST_CASE("reason phrases") {
  CHECK(reason_phrase(200) == "OK");
  CHECK(reason_phrase(413) == "Content Too Large");
  CHECK(reason_phrase(429) == "Too Many Requests");
  CHECK(reason_phrase(431) == "Request Header Fields Too Large");
  CHECK(reason_phrase(504) == "Gateway Timeout");
  CHECK(reason_phrase(299) == "Unknown");
}

TEST_CASE("core's JSON error shape and JSON quoting") {
  CHECK(render_json_error({429, "RESOURCE_EXHAUSTED", "quota", ""}) ==
        R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})");
  CHECK(render_json_error({500, "", "x", ""}).find("\"status\":\"UNKNOWN\"") != std::string::npos);
  CHECK(json_quote("a\"b\\c\n\t\x01") == "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  CHECK(json_quote("é") == "\"é\"");
}
