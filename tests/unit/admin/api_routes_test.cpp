// The admin API's route matching (admin/api_routes.h) against a table shaped like the real one:
// literal and id segments, 405 naming the methods of a path, 404 for unknown paths and for a
// key id that cannot exist.
#include "admin/api_routes.h"

#include <doctest/doctest.h>

using namespace gemgate::admin;

namespace {

void nop(ApiCall&, const PathArgs&) {}

constexpr ApiRoute kRoutes[] = {
    {"GET", "session", &nop},
    {"GET", "keys", &nop},
    {"POST", "keys", &nop},
    {"POST", "keys/bulk", &nop},
    {"DELETE", "keys/{key_id}", &nop},
    {"POST", "keys/{key_id}/{action}", &nop},
    {"DELETE", "tokens/{id}", &nop},
    {"GET", "three", &nop},
    {"POST", "three", &nop},
    {"PUT", "three", &nop},
};

RouteMatch match(std::string_view method, std::vector<std::string> segments) {
  return match_api_route(kRoutes, method, segments);
}

}  // namespace

TEST_CASE("a route is found by method and path; placeholders are captured") {
  RouteMatch m = match("POST", {"keys", "42", "verify"});
  REQUIRE(m.route == &kRoutes[5]);
  CHECK(m.args.id == 42);
  CHECK(m.args.action == "verify");
  CHECK(match("POST", {"keys", "bulk"}).route == &kRoutes[3]);
  CHECK(match("DELETE", {"keys", "7"}).route == &kRoutes[4]);
  CHECK(match("DELETE", {"tokens", "9"}).args.id == 9);
  CHECK(match("GET", {"keys"}).route == &kRoutes[1]);
}

TEST_CASE("a known path with another method answers 405 naming its methods in table order") {
  RouteMatch m = match("PUT", {"keys"});
  CHECK(m.route == nullptr);
  CHECK(m.status == 405);
  CHECK(m.message == "use GET or POST");
  CHECK(match("GET", {"keys", "bulk"}).message == "use POST");
  CHECK(match("GET", {"keys", "3"}).message == "use DELETE");
  CHECK(match("HEAD", {"session"}).message == "use GET");
  CHECK(match("DELETE", {"three"}).message == "use GET, POST or PUT");
}

TEST_CASE("unknown paths answer 404; a segment that is no key id names the key") {
  for (const std::vector<std::string>& path : std::vector<std::vector<std::string>>{
           {}, {"nope"}, {"keys", "3", "verify", "more"}, {"tokens", "x"}, {"tokens", "1", "x"}}) {
    RouteMatch m = match("GET", path);
    CHECK(m.route == nullptr);
    CHECK(m.status == 404);
    CHECK(m.message == "no such admin API call");
  }
  CHECK(match("DELETE", {"keys", "abc"}).message == "no key with id 'abc'");
  CHECK(match("POST", {"keys", "bulk", "verify"}).message == "no key with id 'bulk'");
  CHECK(match("POST", {"keys", "x1", "a", "b"}).message == "no key with id 'x1'");
  CHECK(match("POST", {"keys", "x1", "a", "b"}).status == 404);
}
