#include "core/json.h"

#include <cstdio>

#include "core/json_surrogates.h"

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
  // A lone surrogate escape would decode into bytes that are not UTF-8 (core/json_surrogates.h).
  if (json_text::has_lone_surrogate(text)) {
    std::string mended(text);
    json_text::mend_lone_surrogates(mended.data(), mended.size());
    doc.Parse(mended.data(), mended.size());
  } else {
    doc.Parse(text.data(), text.size());
  }
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

namespace {

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 when the bytes there are not one.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 ? 2 : 0;
  if (n == 0 || b0 > 0xF4 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char b1 = byte(i + 1);
  if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
  if (b0 == 0xED && b1 >= 0xA0) return 0;  // surrogate
  if (b0 == 0xF0 && b1 < 0x90) return 0;   // overlong
  if (b0 == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
  return n;
}

}  // namespace

std::string json_quote_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  size_t plain = 0;  // start of the run of bytes json_quote handles as they are
  auto flush = [&](size_t upto) {
    if (upto > plain) {
      std::string part = json_quote(text.substr(plain, upto - plain));
      out.append(part, 1, part.size() - 2);
    }
  };
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(text, i);
    if (n > 0) {
      i += n;
      continue;
    }
    flush(i);
    out += "\\ufffd";
    plain = ++i;
  }
  flush(text.size());
  out.push_back('"');
  return out;
}

}  // namespace gemgate
