// Internal: small helpers over RapidJSON shared by the translators. Not part of the public API.
#pragma once

#include <cstdint>
#include <optional>
#include <rapidjson/document.h>
#include <string>
#include <string_view>

#include "filters/openai/translate/errors.h"

namespace gemgate::openai::detail {

using Value = rapidjson::Value;
using Document = rapidjson::Document;
using Alloc = rapidjson::Document::AllocatorType;

// Deepest nesting accepted in any JSON this library parses. Every recursive walk over a parsed
// document is therefore bounded; real requests nest a dozen levels at most.
constexpr size_t kMaxJsonDepth = 128;

// Parses `text` into `doc`. Refuses invalid UTF-8, trailing garbage and nesting deeper than
// `max_depth` (checked by a linear pre-scan before RapidJSON's recursive parser runs). On failure
// returns false and fills *error with a short reason.
bool parse_json(std::string_view text, Document& doc, std::string* error,
                size_t max_depth = kMaxJsonDepth);

// True when `text` is well-formed UTF-8 (Unicode's table 3-7: no overlong forms, surrogates or
// code points past U+10FFFF) — exactly what RapidJSON's encoding validation accepts.
bool is_utf8(std::string_view text);

// Parses a client's request body, which must be a JSON object; otherwise OpenAI's 400 wording
// ("We could not parse the JSON body of your request: ...", "The request body must be a JSON
// object, not ...").
Expected<bool> parse_request_body(std::string_view body, Document& doc);

// Serialises a value compactly (UTF-8 kept as is, no escaping of non-ASCII).
std::string write_json(const Value& v);
// Appends write_json(v) to `out` without a string of its own.
void append_json(std::string& out, const Value& v);
// `s` as a JSON string literal, quotes included, escaped exactly as write_json() escapes strings.
std::string quote_json(std::string_view s);
// Appends quote_json(s) to `out` without a string of its own.
void append_quoted_json(std::string& out, std::string_view s);

// The bytes of a string value (strings may hold NULs, so never use GetString() alone).
inline std::string_view sv(const Value& v) {
  return {v.GetString(), v.GetStringLength()};
}
// A string value holding a copy of `s`.
inline Value str(std::string_view s, Alloc& a) {
  // A default string_view has a null data(), which RapidJSON refuses even for length 0.
  return Value(s.data() ? s.data() : "", static_cast<rapidjson::SizeType>(s.size()), a);
}

// Member `key` of object `obj`, or nullptr when absent or JSON null (OpenAI treats both alike).
const Value* field(const Value& obj, std::string_view key);

// Member `name` of object `obj` (null values included), or nullptr. Avoids comparing RapidJSON's
// mutable member iterators, which C++20 compilers find ambiguous.
Value* member(Value& obj, const Value& name);
Value* member(Value& obj, std::string_view name);

// Adds member `key` (copied) with `value` (moved) to object `obj`.
void add(Value& obj, std::string_view key, Value value, Alloc& a);
void add(Value& obj, std::string_view key, std::string_view s, Alloc& a);

// Gemini `contents` holding one user turn with one text part: [{"role":"user","parts":[{"text"}]}].
Value user_text_contents(std::string_view text, Alloc& a);

// An integer value, accepting integral doubles like 2.0; nullopt otherwise.
std::optional<int64_t> as_int(const Value& v);

// "a string", "an integer", "an object", ... for error messages.
const char* type_name(const Value& v);

// Appends param path pieces: join("messages", 2) == "messages[2]"; join("a", "b") == "a.b".
std::string join(std::string_view base, size_t index);
std::string join(std::string_view base, std::string_view key);

// A client's value as an error message quotes it: at most 64 bytes (cut at a character boundary,
// "…" appended when cut), control characters as '?', so a 1 MiB or binary value is not echoed.
std::string echo(std::string_view value);

// Error helpers in OpenAI's wording.
OpenAIError missing_param(const std::string& param);
OpenAIError wrong_type(const std::string& param, std::string_view expected, const Value& got);
OpenAIError bad_value(const std::string& param, std::string message);

}  // namespace gemgate::openai::detail
