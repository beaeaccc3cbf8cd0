#include "core/router.h"

#include <algorithm>

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
  const size_t at = routes_.size();
  routes_.push_back(std::move(route));
  const Route& r = routes_.back();
  switch (r.kind) {
    case RouteKind::kExact:
      exact_.push_back(at);
      break;
    case RouteKind::kPattern: {
      std::string_view body(r.path);
      if (body.ends_with("/**")) body.remove_suffix(3);  // "/**" is not literal text
      patterns_.push_back({at, std::min(body.find('{'), body.size())});
      break;
    }
    case RouteKind::kPrefix: {
      // Longest first; after every prefix as long as this one (the first added wins a tie).
      auto pos = std::upper_bound(
          prefixes_.begin(), prefixes_.end(), r.path.size(),
          [this](size_t size, size_t other) { return size > routes_[other].path.size(); });
      prefixes_.insert(pos, at);
      break;
    }
  }
}

const Route* RouteTable::match(std::string_view path) const {
  for (size_t i : exact_) {
    if (path == routes_[i].path) return &routes_[i];
  }
  for (const PatternEntry& p : patterns_) {
    const std::string& pattern = routes_[p.route].path;
    if (path.size() < p.literal || path.compare(0, p.literal, pattern, 0, p.literal) != 0) continue;
    if (match_route_pattern(pattern, path)) return &routes_[p.route];
  }
  for (size_t i : prefixes_) {
    if (path.starts_with(routes_[i].path)) return &routes_[i];
  }
  return nullptr;
}

}  // namespace gemgate
