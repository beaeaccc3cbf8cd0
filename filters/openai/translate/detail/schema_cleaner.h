// Internal: one clean_schema() run (budget, $ref look-ups, allOf merging, the first error) and
// the keyword tables the two dialects dispatch through. The dialects live beside it:
// schema_json.cpp (SchemaMode::kJsonSchema) and schema_openapi.cpp (SchemaMode::kOpenApi).
// Not part of the public API.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/errors.h"

namespace gemgate::openai::detail {

class SchemaCleaner {
 public:
  // `root` is the whole schema ($ref targets are looked up in it), `param` its place in the
  // request for error messages; everything produced is allocated with `a`.
  SchemaCleaner(Alloc& a, const Value& root, const std::string& param)
      : a_(a), root_(root), param_(param), start_bytes_(a.Size()) {}

  // Cleans `in`, a schema `depth` levels below the root, into `out` for Gemini's JSON-Schema
  // fields (schema_json.cpp). Returns false after recording the error.
  bool clean_json(const Value& in, int depth, Value& out);

  // Cleans `in`, a schema `depth` levels below the root, into `out` for Gemini's OpenAPI subset
  // (schema_openapi.cpp). Returns false after recording the error.
  bool clean_openapi(const Value& in, int depth, Value& out);

  // Records `why` as the run's error unless one is already recorded (the first cause is the
  // useful one). Always returns false, so callers can `return fail(...)`.
  bool fail(std::string why);

  // Counts one produced node at `depth` against the depth, node and byte budgets. Returns false
  // (error recorded) once any of them is exceeded.
  bool enter(int depth);

  // "#/$defs/X", "#/definitions/X" or "#" against the root; nullptr when it does not resolve.
  const Value* resolve(std::string_view ref) const;

  // Copies `in` without its `allOf` into `out`, then folds every branch in (a `$ref` branch is
  // resolved first, a nested allOf merged first): properties and required are unioned, other
  // keywords are taken from the first place that sets them. Returns false on error.
  bool merge_all_of(const Value& in, int depth, Value& out);

  Alloc& alloc() { return a_; }

  // The $refs being inlined on the current path (the OpenAPI dialect's cycle check).
  std::vector<std::string>& inlining() { return refs_; }

  // The recorded error; only valid after a call returned false.
  const OpenAIError& error() const { return *error_; }

 private:
  Alloc& a_;
  const Value& root_;
  const std::string& param_;
  size_t start_bytes_;  // a_.Size() when the run started
  int nodes_ = 0;
  std::vector<std::string> refs_;
  std::optional<OpenAIError> error_;
};

// One keyword of a dialect and its handler. `Walk` is the dialect's state for the schema object
// being cleaned; a handler returns false only on error (already recorded).
template <class Walk>
struct SchemaKeyword {
  std::string_view name;
  bool (*handle)(Walk& walk, std::string_view key, const Value& value);
};

// The handler of `key` in `table`, or nullptr: keywords missing from a table are dropped.
template <class Walk, size_t N>
auto find_keyword(const SchemaKeyword<Walk> (&table)[N], std::string_view key)
    -> decltype(table[0].handle) {
  for (const auto& keyword : table) {
    if (keyword.name == key) return keyword.handle;
  }
  return nullptr;
}

}  // namespace gemgate::openai::detail
