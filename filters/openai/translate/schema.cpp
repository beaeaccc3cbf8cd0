// JSON Schema → Gemini schema (see schema.h for the two dialects and their rules). This file
// holds what both dialects share: the budget, $ref resolution and allOf merging. Each dialect is
// a keyword → handler table with a walker: detail/schema_json.cpp and detail/schema_openapi.cpp.
#include "filters/openai/translate/schema.h"

#include <algorithm>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/detail/schema_cleaner.h"

namespace gemgate::openai {

namespace detail {

bool SchemaCleaner::fail(std::string why) {
  if (!error_) {
    error_ = OpenAIError::invalid("Invalid schema in '" + param_ + "': " + std::move(why), param_,
                                  "invalid_schema");
  }
  return false;
}

bool SchemaCleaner::enter(int depth) {
  if (depth > kMaxSchemaDepth) {
    return fail("nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels.");
  }
  if (++nodes_ > kMaxSchemaNodes) {
    return fail("more than " + std::to_string(kMaxSchemaNodes) +
                " schema nodes (after inlining $ref).");
  }
  // Everything this run copies (output and allOf merges) comes from a_: its growth is the size.
  if (a_.Size() - start_bytes_ > kMaxSchemaBytes) {
    return fail("larger than " + std::to_string(kMaxSchemaBytes) +
                " bytes once $ref and allOf are expanded.");
  }
  return true;
}

const Value* SchemaCleaner::resolve(std::string_view ref) const {
  for (std::string_view prefix : {"#/$defs/", "#/definitions/"}) {
    if (!ref.starts_with(prefix)) continue;
    const Value* defs = field(root_, prefix == "#/$defs/" ? "$defs" : "definitions");
    if (!defs || !defs->IsObject()) return nullptr;
    return field(*defs, ref.substr(prefix.size()));
  }
  if (ref == "#") return &root_;
  return nullptr;
}

namespace {

// Folds the members of one allOf branch `b` into `out`: new keywords are copied, properties and
// required of both are unioned, any other keyword `out` already has stays as it is.
void fold_branch(const Value& b, Value& out, Alloc& a) {
  for (auto& m : b.GetObject()) {
    std::string_view k = sv(m.name);
    Value* have = member(out, m.name);
    if (!have) {
      out.AddMember(Value(m.name, a), Value(m.value, a), a);
    } else if (k == "properties" && have->IsObject() && m.value.IsObject()) {
      for (auto& p : m.value.GetObject()) {
        if (!have->HasMember(p.name)) have->AddMember(Value(p.name, a), Value(p.value, a), a);
      }
    } else if (k == "required" && have->IsArray() && m.value.IsArray()) {
      for (const Value& r : m.value.GetArray()) {
        if (std::find(have->Begin(), have->End(), r) == have->End()) {
          have->PushBack(Value(r, a), a);
        }
      }
    }
  }
}

}  // namespace

bool SchemaCleaner::merge_all_of(const Value& in, int depth, Value& out) {
  if (!enter(depth)) return false;
  out.SetObject();
  for (auto& m : in.GetObject()) {
    if (sv(m.name) != "allOf") out.AddMember(Value(m.name, a_), Value(m.value, a_), a_);
  }
  const Value& branches = in["allOf"];
  if (!branches.IsArray()) return fail("'allOf' must be an array.");
  for (const Value& raw : branches.GetArray()) {
    const Value* b = &raw;
    if (const Value* ref = field(raw, "$ref"); ref && ref->IsString()) {
      b = resolve(sv(*ref));
      if (!b) return fail("unresolvable $ref '" + std::string(sv(*ref)) + "'.");
    }
    if (!b->IsObject()) continue;
    Value nested;
    if (field(*b, "allOf")) {
      if (!merge_all_of(*b, depth + 1, nested)) return false;
      b = &nested;
    }
    fold_branch(*b, out, a_);
  }
  return true;
}

}  // namespace detail

Expected<rapidjson::Value> clean_schema(const rapidjson::Value& schema, SchemaMode mode,
                                        rapidjson::Document::AllocatorType& alloc,
                                        const std::string& param) {
  detail::SchemaCleaner cleaner(alloc, schema, param);
  detail::Value out;
  bool ok = mode == SchemaMode::kJsonSchema ? cleaner.clean_json(schema, 0, out)
                                            : cleaner.clean_openapi(schema, 0, out);
  if (!ok) return cleaner.error();
  return Expected<rapidjson::Value>(std::move(out));
}

}  // namespace gemgate::openai
