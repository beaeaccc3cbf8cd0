#include "core/chain.h"

#include <cstdio>

#include "core/json.h"

namespace gemgate {

std::string render_json_error(const http::LocalError& e) {
  std::string code = e.code.empty() ? "UNKNOWN" : e.code;
  return "{\"error\":{\"code\":" + std::to_string(e.status) +
         ",\"message\":" + json_quote(e.message) + ",\"status\":" + json_quote(code) + "}}";
}

}  // namespace gemgate
