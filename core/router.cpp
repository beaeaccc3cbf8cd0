#include "core/router.h"

namespace gemgate {

void RouteTable::add(Route route) {
  routes_.push_back(std::move(route));
}

const Route* RouteTable::match(std::string_view path) const {
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    if (r.exact) {
      if (path == r.path) return &r;
      continue;
    }
    if (path.starts_with(r.path) && (!best || r.path.size() > best->path.size())) {
      best = &r;
    }
  }
  return best;
}

}  // namespace gemgate
