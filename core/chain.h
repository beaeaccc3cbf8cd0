// ChainSpec: the immutable description of one filter chain, built once from config and shared by
// every request routed to it: the filter factories in order and how local errors are rendered.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/filter.h"
#include "core/http/message.h"

namespace gemgate {

// Creates one filter instance for one request (or one attempt, after a replay).
using FilterFactory = std::function<std::unique_ptr<Filter>()>;

// Renders a local error as a response body (JSON) in a client dialect.
using ErrorRenderer = std::function<std::string(const http::LocalError&)>;

struct ChainSpec {
  std::string name;
  std::vector<std::string> filter_names;  // parallel to factories, for logs and errors
  std::vector<FilterFactory> factories;   // request order; the last one is terminal
  ErrorRenderer render_error;             // never empty once built
};

// core's own error body, for errors the server answers before any chain runs and for chains
// whose registry names no default dialect: {"error":{"code":<status>,"message":"...",
// "status":"<CODE>"}}, with "UNKNOWN" when `error.code` is empty. `error.param` is not shown.
// Client dialects (the shape one API's clients parse) are registered by the composition root.
std::string render_json_error(const http::LocalError& error);

}  // namespace gemgate
