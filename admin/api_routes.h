// The admin API's routing as data: a table of routes, each a method, a path pattern and the
// handler, one line per endpoint; match_api_route() picks the route of a request or the 404/405
// answer. Patterns are the path after /admin/api/ split on '/' (empty segments dropped), made of
// literal segments and placeholders:
//   {key_id}   a key id (parse_id); any other segment answers 404 "no key with id '<segment>'"
//              (the key does not exist), also when the rest of the path matches nothing
//   {id}       an id (parse_id); any other segment matches nothing
//   {action}   any one segment
// No precedence rule is needed: a literal segment and an id never match the same segment
// ("keys/bulk" and "keys/{key_id}").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gemgate::admin {

struct ApiCall;

// What the placeholders of the matched pattern captured ({key_id} or {id}, and {action}).
struct PathArgs {
  int64_t id = 0;
  std::string action;
};

using ApiHandler = void (*)(ApiCall& call, const PathArgs& args);

struct ApiRoute {
  std::string_view method;   // "GET", "POST", ... (HEAD is not GET here)
  std::string_view pattern;  // e.g. "keys/{key_id}/{action}"
  ApiHandler handler;
};

// The route for one request, or the answer when there is none.
struct RouteMatch {
  const ApiRoute* route = nullptr;  // null: answer `status` with `message`
  PathArgs args;
  int status = 0;       // 404 (no such path) or 405 (the path exists for other methods)
  std::string message;  // "no such admin API call", "no key with id '7x'", "use GET or POST"
};

// Matches `method` and `segments` against `routes`. When the path matches routes but none of
// `method`, answers 405 naming their methods in table order ("use GET or POST").
RouteMatch match_api_route(std::span<const ApiRoute> routes, std::string_view method,
                           const std::vector<std::string>& segments);

}  // namespace gemgate::admin
