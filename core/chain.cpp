#include "core/chain.h"

#include <cstdio>

namespace gemgate {

std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string render_json_error(const http::LocalError& e) {
  std::string code = e.code.empty() ? "UNKNOWN" : e.code;
  return "{\"error\":{\"code\":" + std::to_string(e.status) +
         ",\"message\":" + json_quote(e.message) + ",\"status\":" + json_quote(code) + "}}";
}

}  // namespace gemgate
