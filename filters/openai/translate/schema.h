// JSON Schema cleaning for Gemini: the schemas clients send in `tools[].function.parameters` and
// `response_format.json_schema.schema` use keywords Gemini refuses. Two target dialects exist:
//
//  * SchemaMode::kJsonSchema (default, "Option A"): the schema goes to `parametersJsonSchema` /
//    `responseJsonSchema`, Gemini's JSON-Schema fields. Only the keywords Gemini documents survive
//    ($id $defs $ref $anchor type format title description enum items prefixItems minItems maxItems
//    minimum maximum anyOf oneOf properties additionalProperties required propertyOrdering);
//    `const` becomes a one-value `enum`, `allOf` is merged, draft-07 `definitions` become `$defs`,
//    `$ref` loses its non-`$` siblings, `enum` keeps only string/number members.
//  * SchemaMode::kOpenApi ("Option B", what LiteLLM and Portkey do): the schema goes to
//    `parameters` / `responseSchema`, Gemini's OpenAPI-3.0 subset. `$ref`s are inlined (a cycle is
//    cut to {"type":"object"}), `anyOf:[X,{type:null}]` and `type:[X,"null"]` become X with
//    `nullable:true`, `additionalProperties` is dropped, `propertyOrdering` follows the client's
//    key order (Gemini orders output keys alphabetically otherwise). Use it as a fallback when
//    Gemini refuses a schema in the JSON-Schema fields.
//
// Both are bounded: at most kMaxSchemaDepth nested schemas, kMaxSchemaNodes produced nodes and
// kMaxSchemaBytes of produced JSON (so a fan-out of $refs or allOf merges of a large definition
// cannot explode), else an error naming `param`.
#pragma once

#include <cstddef>
#include <rapidjson/document.h>
#include <string>

#include "filters/openai/translate/errors.h"

namespace gemgate::openai {

enum class SchemaMode {
  kJsonSchema,  // parametersJsonSchema / responseJsonSchema (default)
  kOpenApi,     // parameters / responseSchema
};

constexpr int kMaxSchemaDepth = 48;
constexpr int kMaxSchemaNodes = 10000;
constexpr size_t kMaxSchemaBytes = 4u << 20;

// Cleans `schema` for Gemini in `mode`. The result is allocated with `alloc`; `param` names the
// schema's place in the request for error messages (e.g. "tools[0].function.parameters").
Expected<rapidjson::Value> clean_schema(const rapidjson::Value& schema, SchemaMode mode,
                                        rapidjson::Document::AllocatorType& alloc,
                                        const std::string& param);

}  // namespace gemgate::openai
