// RouteTable: maps a normalised request path to the chain that serves it. A route is an exact
// path, a path pattern, or a prefix; it may strip a leading part of the path before the chain
// sees it (e.g. "/gemini" so "/gemini/v1beta/models" reaches upstream as "/v1beta/models").
//
// Patterns describe a path's shape where a prefix cannot: "/v1/models/{model}:{method}" matches
// "/v1/models/gemini-2.5-flash:generateContent" but not "/v1/models/gemini-2.5-flash", so two
// APIs can share "/v1/" (Gemini's method calls and OpenAI's model get). A `{name}` stands for one
// or more characters other than '/' and other than the literal character that follows it in the
// pattern; everything else is literal. A pattern ending in "/**" also matches any deeper path
// ("/v1/files/**" matches "/v1/files" and "/v1/files/abc:download").
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/chain.h"

namespace gemgate {

enum class RouteKind { kPrefix, kExact, kPattern };

struct Route {
  std::string path;  // match text: the prefix, the exact path or the pattern
  RouteKind kind = RouteKind::kPrefix;
  std::string strip;  // prefix removed from the request path before the chain runs
  std::shared_ptr<const ChainSpec> chain;
  // How this route takes request bodies: buffered whole (the default; the chain's filters read
  // the complete body) or streamed to the upstream as they arrive (`stream_body: true`; see
  // http::Request::body_stream), and the route's own size limit (0: the server's
  // limits.max_body_bytes).
  bool stream_body = false;
  size_t max_body_bytes = 0;
};

// Returns "" when `pattern` is a well-formed route pattern, else why not (for config errors):
// it must start with '/', braces must pair up around a non-empty name without '/', and two
// placeholders may not touch (nothing would tell where one ends).
std::string check_route_pattern(std::string_view pattern);

// True when `path` has the shape `pattern` describes (see the file comment). `pattern` must have
// passed check_route_pattern.
bool match_route_pattern(std::string_view pattern, std::string_view path);

class RouteTable {
 public:
  // Adds a route; sorts it into the index of its kind (config time, not per request).
  void add(Route route);
  // Returns the best route for `path`, or nullptr. Exact routes come first, then patterns (the
  // first that matches, in the order added), then prefixes (the longest wins; of two equally
  // long, the first added). Read-only: safe from any thread once the table is built.
  const Route* match(std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  // Positions in routes_ by kind, so a lookup reads only the routes that can answer it:
  // exact ones in the order added; patterns with the literal text before their first
  // placeholder (a path not starting with it cannot match); prefixes longest first, stable.
  std::vector<size_t> exact_;
  struct PatternEntry {
    size_t route;
    size_t literal;  // length of the pattern's text before its first '{'
  };
  std::vector<PatternEntry> patterns_;
  std::vector<size_t> prefixes_;
};

}  // namespace gemgate
