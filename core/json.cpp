#include "core/json.h"

#include <cstdio>

namespace gemgate::json {

namespace {

// Walks JSON text outside strings. Stops when the nesting exceeds `max_depth` (too_deep) or,
// with `stop_at_close`, when the value opened at text[0] closes (returns its end).
struct Walk {
  bool too_deep = false;
  size_t closed_at = 0;  // one past the closing bracket; 0 when it never closed
};

Walk walk(std::string_view text, size_t max_depth, bool stop_at_close) {
  Walk out;
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        out.too_deep = true;
        return out;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      if (--depth == 0 && stop_at_close) {
        out.closed_at = i + 1;
        return out;
      }
    }
  }
  return out;
}

}  // namespace

bool depth_within(std::string_view text, size_t max_depth) {
  return !walk(text, max_depth, false).too_deep;
}

size_t balanced_length(std::string_view text) {
  if (text.empty() || (text[0] != '{' && text[0] != '[')) return 0;
  return walk(text, kMaxDepth, true).closed_at;
}

bool parse(rapidjson::Document& doc, std::string_view text) {
  if (!depth_within(text)) {
    doc.SetNull();
    return false;
  }
  doc.Parse(text.data(), text.size());
  return !doc.HasParseError();
}

}  // namespace gemgate::json

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

}  // namespace gemgate
