// RouteTable: maps a normalised request path to the chain that serves it. A route is either an
// exact path or a prefix (longest prefix wins); it may strip a leading part of the path before
// the chain sees it (e.g. "/gemini" so "/gemini/v1beta/models" reaches upstream as
// "/v1beta/models").
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/chain.h"

namespace gemgate {

struct Route {
  std::string path;    // match text
  bool exact = false;  // exact path match instead of prefix
  std::string strip;   // prefix removed from the request path before the chain runs
  std::shared_ptr<const ChainSpec> chain;
};

class RouteTable {
 public:
  void add(Route route);
  // Returns the best route for `path`, or nullptr. Exact routes beat prefix routes; among
  // prefixes the longest wins.
  const Route* match(std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace gemgate
