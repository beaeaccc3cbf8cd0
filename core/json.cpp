#include "core/json.h"

namespace gemgate::json {

bool depth_within(std::string_view text, size_t max_depth) {
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
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
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
