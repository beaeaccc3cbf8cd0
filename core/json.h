// Parsing JSON from untrusted sources. RapidJSON's reader recurses once per nesting level, so a
// body of a few hundred thousand '[' overflows the stack and kills the process; every parse of
// client, upstream or stored input goes through parse_json, which refuses deep nesting first.
#pragma once

#include <cstddef>
#include <rapidjson/document.h>
#include <string>
#include <string_view>

namespace gemgate::json {

// Deeper than any real API object (Gemini's and OpenAI's nest a dozen levels at most).
inline constexpr size_t kMaxDepth = 128;

// Returns true when `text` nests arrays/objects at most `max_depth` deep (strings skipped).
bool depth_within(std::string_view text, size_t max_depth = kMaxDepth);

// Returns the length of the object or array that starts at text[0] (its closing bracket
// included), or 0 when `text` does not start with one or it is not complete yet.
size_t balanced_length(std::string_view text);

// Parses `text` into `doc`. Returns false (doc holds a parse error or is null) when the text is
// not JSON or nests deeper than kMaxDepth.
bool parse(rapidjson::Document& doc, std::string_view text);

}  // namespace gemgate::json

namespace gemgate {

// Escapes `text` as a JSON string literal including the quotes: `"`, `\` and control characters
// escaped, everything else (UTF-8 included) copied as is. For the few JSON bodies built by hand
// (local errors, small admin answers) where a RapidJSON writer would be overkill.
std::string json_quote(std::string_view text);

// Like json_quote, and every byte that does not belong to well-formed UTF-8 becomes U+FFFD
// (written \ufffd), so the result is valid JSON whatever bytes `text` holds (a hostile path or
// header in a JSON log line).
std::string json_quote_utf8(std::string_view text);

}  // namespace gemgate
