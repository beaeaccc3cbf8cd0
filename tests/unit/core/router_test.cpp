// RouteTable and route patterns: exact beats pattern beats prefix, the longest prefix wins, and
// a pattern tells Gemini's "/v1/models/{model}:{method}" from OpenAI's "/v1/models/{id}".
#include "core/router.h"

#include <doctest/doctest.h>

using namespace gemgate;

namespace {

Route route(std::string path, RouteKind kind) {
  Route r;
  r.path = std::move(path);
  r.kind = kind;
  return r;
}

}  // namespace

TEST_CASE("route table: exact beats prefix, longest prefix wins, no match is null") {
  RouteTable t;
  t.add(route("/v1beta/", RouteKind::kPrefix));
  t.add(route("/v1beta/models/", RouteKind::kPrefix));
  t.add(route("/v1beta/models/x", RouteKind::kExact));
  t.add(route("/healthz", RouteKind::kExact));
  CHECK(t.match("/v1beta/models/gemini:generateContent")->path == "/v1beta/models/");
  CHECK(t.match("/v1beta/files")->path == "/v1beta/");
  CHECK(t.match("/v1beta/models/x")->kind == RouteKind::kExact);
  CHECK(t.match("/healthz")->kind == RouteKind::kExact);
  CHECK(t.match("/healthz/deep") == nullptr);
  CHECK(t.match("/v1") == nullptr);
  CHECK(t.match("/") == nullptr);
}

TEST_CASE("route pattern: a placeholder is one segment up to the literal after it") {
  const char* p = "/v1/models/{model}:{method}";
  CHECK(match_route_pattern(p, "/v1/models/gemini-2.5-flash:generateContent"));
  CHECK(match_route_pattern(p, "/v1/models/gemini-2.5-flash:streamGenerateContent"));
  CHECK(match_route_pattern(p, "/v1/models/text-embedding-004:batchEmbedContents"));
  CHECK_FALSE(match_route_pattern(p, "/v1/models/gemini-2.5-flash"));  // OpenAI's model get
  CHECK_FALSE(match_route_pattern(p, "/v1/models"));
  CHECK_FALSE(match_route_pattern(p, "/v1/models/"));
  CHECK_FALSE(match_route_pattern(p, "/v1/models/:generateContent"));  // empty model
  CHECK_FALSE(match_route_pattern(p, "/v1/models/x:"));                // empty method
  CHECK_FALSE(match_route_pattern(p, "/v1/models/a/b:generateContent"));
  CHECK_FALSE(match_route_pattern(p, "/v1/models/x:generateContent/more"));
  CHECK_FALSE(match_route_pattern(p, "/v1beta/models/x:generateContent"));
}

TEST_CASE("route pattern: a trailing /** takes the path itself and anything below it") {
  const char* p = "/v1/files/**";
  CHECK(match_route_pattern(p, "/v1/files"));
  CHECK(match_route_pattern(p, "/v1/files/abc"));
  CHECK(match_route_pattern(p, "/v1/files/abc:download"));
  CHECK_FALSE(match_route_pattern(p, "/v1/filesystem"));
  CHECK_FALSE(match_route_pattern(p, "/v1/file"));
}

TEST_CASE("route pattern: malformed patterns are explained") {
  CHECK(check_route_pattern("/v1/models/{model}:{method}") == "");
  CHECK(check_route_pattern("/v1/files/**") == "");
  CHECK(check_route_pattern("v1/models") != "");
  CHECK(check_route_pattern("/v1/{model") != "");
  CHECK(check_route_pattern("/v1/model}") != "");
  CHECK(check_route_pattern("/v1/{}") != "");
  CHECK(check_route_pattern("/v1/{a}{b}") != "");
  CHECK(check_route_pattern("/v1/{a/b}") != "");
}

TEST_CASE("route table: patterns beat prefixes; prefixes added beside them keep working") {
  RouteTable t;
  t.add(route("/v1/", RouteKind::kPrefix));  // the OpenAI front
  t.add(route("/v1/models/{model}:{method}", RouteKind::kPattern));
  t.add(route("/v1/files/**", RouteKind::kPattern));
  t.add(route("/v1/messages", RouteKind::kPrefix));  // another front added as a plain prefix
  CHECK(t.match("/v1/models/gemini-2.5-flash:generateContent")->kind == RouteKind::kPattern);
  CHECK(t.match("/v1/files/abc")->path == "/v1/files/**");
  CHECK(t.match("/v1/models/gemini-2.5-flash")->path == "/v1/");
  CHECK(t.match("/v1/models")->path == "/v1/");
  CHECK(t.match("/v1/chat/completions")->path == "/v1/");
  CHECK(t.match("/v1/messages")->path == "/v1/messages");
}

TEST_CASE("route table: the per-kind index gives what a scan of every route in order gives") {
  // Two prefixes equally long: the first added wins. Prefixes added shortest first, longest
  // first and in between. Two patterns that both match: the first added. A '/**' pattern with
  // no placeholder matches the path itself and below it. The route returned is the table's own.
  RouteTable t;
  t.add(route("/a/", RouteKind::kPrefix));
  t.add(route("/a/bb/", RouteKind::kPrefix));
  t.add(route("/a/cc/", RouteKind::kPrefix));  // as long as /a/bb/
  t.add(route("/a/b", RouteKind::kPrefix));
  t.add(route("/a/bb/ccc/", RouteKind::kPrefix));
  t.add(route("/p/{x}/y", RouteKind::kPattern));
  t.add(route("/p/{z}/{w}", RouteKind::kPattern));
  t.add(route("/files/**", RouteKind::kPattern));
  t.add(route("/exact", RouteKind::kExact));
  t.add(route("/exact", RouteKind::kExact));  // a duplicate: the first stays the answer
  CHECK(t.match("/a/bb/x")->path == "/a/bb/");
  CHECK(t.match("/a/cc/x")->path == "/a/cc/");
  CHECK(t.match("/a/bb/ccc/d")->path == "/a/bb/ccc/");
  CHECK(t.match("/a/bx")->path == "/a/b");
  CHECK(t.match("/a/zz")->path == "/a/");
  CHECK(t.match("/p/1/y")->path == "/p/{x}/y");
  CHECK(t.match("/p/1/q")->path == "/p/{z}/{w}");
  CHECK(t.match("/p/1") == nullptr);
  CHECK(t.match("/files")->path == "/files/**");
  CHECK(t.match("/files/a/b")->path == "/files/**");
  CHECK(t.match("/filesx") == nullptr);
  CHECK(t.match("/exact") == &t.routes()[8]);
  CHECK(t.match("/a/bb/x") == &t.routes()[1]);
  CHECK(t.match("") == nullptr);
}
