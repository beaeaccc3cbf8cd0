#include "admin/api_routes.h"

#include <optional>

#include "admin/api.h"

namespace gemgate::admin {

namespace {

// Splits a pattern on '/'.
std::vector<std::string_view> pattern_segments(std::string_view pattern) {
  std::vector<std::string_view> out;
  while (true) {
    size_t slash = pattern.find('/');
    out.push_back(pattern.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    pattern.remove_prefix(slash + 1);
  }
}

// How `segments` fare against one pattern.
struct PatternResult {
  bool matches = false;
  PathArgs args;
  std::string not_found;  // set when a {key_id} segment named no key
};

PatternResult match_pattern(std::string_view pattern, const std::vector<std::string>& segments) {
  PatternResult r;
  std::vector<std::string_view> want = pattern_segments(pattern);
  for (size_t i = 0; i < want.size() && i < segments.size(); ++i) {
    const std::string& seg = segments[i];
    if (want[i] == "{key_id}" || want[i] == "{id}") {
      std::optional<int64_t> id = parse_id(seg);
      if (!id) {
        // The segments before it matched: this names a key that cannot exist, whatever follows.
        if (want[i] == "{key_id}") r.not_found = "no key with id '" + seg + "'";
        return r;
      }
      r.args.id = *id;
    } else if (want[i] == "{action}") {
      r.args.action = seg;
    } else if (want[i] != seg) {
      return r;
    }
  }
  r.matches = want.size() == segments.size();
  return r;
}

}  // namespace

RouteMatch match_api_route(std::span<const ApiRoute> routes, std::string_view method,
                           const std::vector<std::string>& segments) {
  RouteMatch m;
  std::vector<std::string_view> allowed;  // methods of the routes whose path matched
  std::string not_found;
  for (const ApiRoute& route : routes) {
    PatternResult r = match_pattern(route.pattern, segments);
    if (!r.matches) {
      if (not_found.empty()) not_found = std::move(r.not_found);
      continue;
    }
    if (route.method == method) {
      m.route = &route;
      m.args = std::move(r.args);
      return m;
    }
    allowed.push_back(route.method);
  }
  if (!allowed.empty()) {
    m.status = 405;
    m.message = "use ";
    for (size_t i = 0; i < allowed.size(); ++i) {
      if (i > 0) m.message += i + 1 == allowed.size() ? " or " : ", ";
      m.message += allowed[i];
    }
    return m;
  }
  m.status = 404;
  m.message = not_found.empty() ? "no such admin API call" : not_found;
  return m;
}

}  // namespace gemgate::admin
