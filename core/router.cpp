#include "core/router.h"

namespace gemgate {

std::string check_route_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern[0] != '/') return "a route pattern starts with '/'";
  bool after_placeholder = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '}') return "'}' without '{' in the route pattern";
    if (c != '{') {
      after_placeholder = false;
      continue;
    }
    if (after_placeholder) return "two placeholders in a row: nothing tells where one ends";
    size_t close = pattern.find('}', i + 1);
    if (close == std::string_view::npos) return "'{' without '}' in the route pattern";
    std::string_view name = pattern.substr(i + 1, close - i - 1);
    if (name.empty()) return "a placeholder needs a name, as in {model}";
    if (name.find_first_of("/{") != std::string_view::npos) {
      return "a placeholder name may not hold '/' or '{'";
    }
    i = close;
    after_placeholder = true;
  }
  return "";
}

bool match_route_pattern(std::string_view pattern, std::string_view path) {
  bool deeper = pattern.ends_with("/**");
  if (deeper) pattern.remove_suffix(3);
  size_t p = 0;  // position in pattern
  size_t s = 0;  // position in path
  while (p < pattern.size()) {
    if (pattern[p] != '{') {
      if (s >= path.size() || path[s] != pattern[p]) return false;
      ++p;
      ++s;
      continue;
    }
    size_t close = pattern.find('}', p);
    p = close + 1;
    // The placeholder ends at '/', at the literal that follows it, or at the path's end.
    char stop = p < pattern.size() ? pattern[p] : '/';
    size_t begin = s;
    while (s < path.size() && path[s] != '/' && path[s] != stop) ++s;
    if (s == begin) return false;
  }
  if (s == path.size()) return true;
  return deeper && path[s] == '/';
}

void RouteTable::add(Route route) {
  routes_.push_back(std::move(route));
}

const Route* RouteTable::match(std::string_view path) const {
  for (const Route& r : routes_) {
    if (r.kind == RouteKind::kExact && path == r.path) return &r;
  }
  for (const Route& r : routes_) {
    if (r.kind == RouteKind::kPattern && match_route_pattern(r.path, path)) return &r;
  }
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    if (r.kind != RouteKind::kPrefix) continue;
    if (path.starts_with(r.path) && (!best || r.path.size() > best->path.size())) best = &r;
  }
  return best;
}

}  // namespace gemgate
