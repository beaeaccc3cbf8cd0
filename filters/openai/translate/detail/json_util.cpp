#include "filters/openai/translate/detail/json_util.h"

#include <cmath>
#include <cstring>
#include <rapidjson/error/en.h>

#include "core/json_surrogates.h"
#include "filters/openai/translate/detail/scratch.h"

namespace gemgate::openai::detail {

namespace {

// Deepest [ / { nesting of `text`, ignoring brackets inside strings. Stops early past `limit`.
size_t nesting_depth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    char c = *p++;
    switch (c) {
      case '"': {
        // Skip the string: past each escaped character up to the first unescaped quote. Each
        // byte is scanned at most once by each memchr, however many escapes (linear).
        const char* q = static_cast<const char*>(std::memchr(p, '"', end - p));
        while (true) {
          if (!q) return deepest;  // unterminated: the parser refuses it
          const void* b = std::memchr(p, '\\', q - p);
          if (!b) break;
          p = static_cast<const char*>(b) + 2;
          if (p > q) {  // that quote was the escaped character: look for the next one
            if (p >= end) return deepest;
            q = static_cast<const char*>(std::memchr(p, '"', end - p));
          }
        }
        p = q + 1;
        break;
      }
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        if (deepest > limit) return deepest;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

}  // namespace

bool is_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // ASCII, eight bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if (word & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p == end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    // The well-formed sequences of Unicode's table 3-7: no overlong forms, no surrogates,
    // nothing past U+10FFFF. The second byte's range depends on the first.
    ptrdiff_t tail;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      tail = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      tail = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      tail = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (end - p <= tail || p[1] < lo || p[1] > hi) return false;
    for (ptrdiff_t i = 2; i <= tail; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += tail + 1;
  }
  return true;
}

namespace {

template <class Doc>
bool parse_into(std::string_view text, Doc& doc, std::string* error, size_t max_depth) {
  if (nesting_depth(text, max_depth) > max_depth) {
    *error = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
    return false;
  }
  // A lone surrogate escape would decode into bytes that are not UTF-8 (core/json_surrogates.h):
  // such a text is parsed from a copy with those escapes made U+FFFD.
  std::string mended;
  if (json_text::has_lone_surrogate(text)) {
    mended.assign(text);
    json_text::mend_lone_surrogates(mended.data(), mended.size());
    text = mended;
  }
  // Valid UTF-8 (nearly always) is parsed without RapidJSON's per-character validation; anything
  // else goes through it, so that it is refused with RapidJSON's own error and offset.
  if (is_utf8(text)) {
    doc.template Parse<rapidjson::kParseNoFlags>(text.data(), text.size());
  } else {
    doc.template Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  }
  if (doc.HasParseError()) {
    *error = std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " (at byte " +
             std::to_string(doc.GetErrorOffset()) + ")";
    return false;
  }
  return true;
}

}  // namespace

bool parse_json(std::string_view text, Document& doc, std::string* error, size_t max_depth) {
  return parse_into(text, doc, error, max_depth);
}

bool parse_json(std::string_view text, ScratchDocument& doc, std::string* error, size_t max_depth) {
  return parse_into(text, doc, error, max_depth);
}

bool parse_json_in_place(std::string_view text, ScratchDocument& doc, std::string* error,
                         size_t max_depth) {
  // The text is copied once onto the document's own pool and its strings stay there (unescaped
  // in place) instead of each being copied out on its own. The copy dies with the DOM; 16 zero
  // bytes after it keep RapidJSON's aligned SSE2 reads inside it. An in-situ parse stops at a
  // NUL byte, so a text holding one takes the copying path (which refuses it where it stands).
  if (text.empty() || std::memchr(text.data(), '\0', text.size())) {
    return parse_into(text, doc, error, max_depth);
  }
  if (nesting_depth(text, max_depth) > max_depth) {
    *error = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
    return false;
  }
  constexpr size_t kPadding = 16;
  char* copy = static_cast<char*>(doc.GetAllocator().Malloc(text.size() + kPadding));
  std::memcpy(copy, text.data(), text.size());
  std::memset(copy + text.size(), 0, kPadding);
  json_text::mend_lone_surrogates(copy, text.size());  // see parse_into
  if (is_utf8(text)) {
    doc.ParseInsitu<rapidjson::kParseNoFlags>(copy);
  } else {
    doc.ParseInsitu<rapidjson::kParseValidateEncodingFlag>(copy);
  }
  if (doc.HasParseError()) {
    *error = std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " (at byte " +
             std::to_string(doc.GetErrorOffset()) + ")";
    return false;
  }
  return true;
}

std::string write_json(const Value& v) {
  ScratchWriter w;
  v.Accept(w.writer());
  return std::string(w.text());
}

void append_json(std::string& out, const Value& v) {
  ScratchWriter w;
  v.Accept(w.writer());
  out += w.text();
}

std::string quote_json(std::string_view s) {
  std::string out;
  append_quoted_json(out, s);
  return out;
}

void append_quoted_json(std::string& out, std::string_view s) {
  ScratchWriter w;
  w.writer().String(s.data() ? s.data() : "", static_cast<rapidjson::SizeType>(s.size()));
  out += w.text();
}

const Value* field(const Value& obj, std::string_view key) {
  if (!obj.IsObject()) return nullptr;
  Value name(rapidjson::StringRef(key.data(), key.size()));
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

Value* member(Value& obj, const Value& name) {
  return obj.IsObject() && obj.HasMember(name) ? &obj[name] : nullptr;
}

Value* member(Value& obj, std::string_view name) {
  return member(obj, Value(rapidjson::StringRef(name.data() ? name.data() : "", name.size())));
}

void add(Value& obj, std::string_view key, Value value, Alloc& a) {
  obj.AddMember(str(key, a), value, a);
}

void add(Value& obj, std::string_view key, std::string_view s, Alloc& a) {
  obj.AddMember(str(key, a), str(s, a), a);
}

Value user_text_contents(std::string_view text, Alloc& a) {
  Value part(rapidjson::kObjectType);
  add(part, "text", text, a);
  Value parts(rapidjson::kArrayType);
  parts.PushBack(std::move(part), a);
  Value content(rapidjson::kObjectType);
  add(content, "role", "user", a);
  add(content, "parts", std::move(parts), a);
  Value contents(rapidjson::kArrayType);
  contents.PushBack(std::move(content), a);
  return contents;
}

std::optional<int64_t> as_int(const Value& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsUint64()) return std::nullopt;  // larger than int64: not a sane count
  if (v.IsDouble()) {
    double d = v.GetDouble();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

const char* type_name(const Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  if (v.IsObject()) return "an object";
  if (v.IsInt64() || v.IsUint64()) return "an integer";
  return "a number";
}

std::string join(std::string_view base, size_t index) {
  return std::string(base) + "[" + std::to_string(index) + "]";
}

std::string join(std::string_view base, std::string_view key) {
  if (base.empty()) return std::string(key);
  std::string out(base);
  out += '.';
  out += key;
  return out;
}

OpenAIError missing_param(const std::string& param) {
  return OpenAIError::invalid("Missing required parameter: '" + param + "'.", param,
                              "missing_required_parameter");
}

std::string echo(std::string_view value) {
  constexpr size_t kMaxEcho = 64;
  size_t n = value.size();
  if (n > kMaxEcho) {
    n = kMaxEcho;
    while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
  }
  std::string out(value.substr(0, n));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (n < value.size()) out += "\u2026";
  return out;
}

OpenAIError wrong_type(const std::string& param, std::string_view expected, const Value& got) {
  return OpenAIError::invalid("Invalid type for '" + param + "': expected " +
                                  std::string(expected) + ", but got " + type_name(got) +
                                  " instead.",
                              param, "invalid_type");
}

OpenAIError bad_value(const std::string& param, std::string message) {
  return OpenAIError::invalid("Invalid value for '" + param + "': " + message, param,
                              "invalid_value");
}

namespace {

template <class Doc>
Expected<bool> parse_body_into(std::string_view body, Doc& doc) {
  std::string err;
  if (!parse_json(body, doc, &err)) {
    return OpenAIError::invalid(
        "We could not parse the JSON body of your request: " + err +
        ". (HINT: This likely means you aren't using your HTTP library correctly.)");
  }
  if (!doc.IsObject()) {
    return OpenAIError::invalid("The request body must be a JSON object, not " +
                                std::string(type_name(doc)) + ".");
  }
  return true;
}

}  // namespace

Expected<bool> parse_request_body(std::string_view body, Document& doc) {
  return parse_body_into(body, doc);
}

Expected<bool> parse_request_body(std::string_view body, ScratchDocument& doc) {
  return parse_body_into(body, doc);
}

}  // namespace gemgate::openai::detail
