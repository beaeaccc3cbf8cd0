// SchemaMode::kJsonSchema: a client's JSON Schema → Gemini's `parametersJsonSchema` /
// `responseJsonSchema`. Only the keywords in kKeywords survive, each through its handler;
// everything else ($schema, strict, default, examples, pattern, minLength, not, if/then/else,
// patternProperties, exclusiveMinimum, ...) is not in Gemini's list and is dropped.
#include <string>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/detail/schema_cleaner.h"

namespace gemgate::openai::detail {

namespace {

// The schema object being cleaned: its (allOf-merged) source, its output, and what the
// keywords decided that is applied after the walk.
struct JsonWalk {
  JsonWalk(SchemaCleaner& c, const Value& s, int d, Value& o)
      : cleaner(c), src(s), depth(d), out(o) {}
  SchemaCleaner& cleaner;
  const Value& src;
  int depth;
  Value& out;
  bool nullable = false;  // an OpenAPI-style `nullable: true`, expressed as a type union
  Alloc& a() { return cleaner.alloc(); }
};

// Cleans every element of `list` as a schema one level down into the array `out`.
bool clean_list(JsonWalk& w, const Value& list, Value& out) {
  out.SetArray();
  for (const Value& x : list.GetArray()) {
    Value s;
    if (!w.cleaner.clean_json(x, w.depth + 1, s)) return false;
    out.PushBack(std::move(s), w.a());
  }
  return true;
}

// `$ref`: kept as a reference; draft-07 "#/definitions/X" points into `$defs` instead.
bool on_ref(JsonWalk& w, std::string_view, const Value& v) {
  if (!v.IsString()) return true;
  std::string r(sv(v));
  if (r.starts_with("#/definitions/")) r = "#/$defs/" + r.substr(14);
  add(w.out, "$ref", r, w.a());
  return true;
}

// `type`: a name, or a list of names (non-strings dropped).
bool on_type(JsonWalk& w, std::string_view, const Value& v) {
  if (!v.IsString() && !v.IsArray()) return true;
  Value t(v, w.a());
  if (t.IsArray()) {
    t.SetArray();
    for (const Value& x : v.GetArray()) {
      if (x.IsString()) t.PushBack(Value(x, w.a()), w.a());
    }
  }
  add(w.out, "type", std::move(t), w.a());
  return true;
}

bool copy_string(JsonWalk& w, std::string_view k, const Value& v) {
  if (v.IsString()) add(w.out, k, Value(v, w.a()), w.a());
  return true;
}

bool copy_number(JsonWalk& w, std::string_view k, const Value& v) {
  if (v.IsNumber()) add(w.out, k, Value(v, w.a()), w.a());
  return true;
}

// `enum`: only string and number members (Gemini refuses others); an empty result is dropped.
bool on_enum(JsonWalk& w, std::string_view, const Value& v) {
  if (!v.IsArray()) return true;
  Value e(rapidjson::kArrayType);
  for (const Value& x : v.GetArray()) {
    if (x.IsString() || x.IsNumber()) e.PushBack(Value(x, w.a()), w.a());
  }
  if (!e.Empty()) add(w.out, "enum", std::move(e), w.a());
  return true;
}

// `const`: Gemini has none; a one-value `enum` says the same, unless an `enum` is there.
bool on_const(JsonWalk& w, std::string_view, const Value& v) {
  if ((v.IsString() || v.IsNumber()) && !field(w.src, "enum")) {
    Value e(rapidjson::kArrayType);
    e.PushBack(Value(v, w.a()), w.a());
    add(w.out, "enum", std::move(e), w.a());
  }
  return true;
}

// A keyword whose value is one schema, or a boolean (any / nothing).
bool on_subschema(JsonWalk& w, std::string_view k, const Value& v) {
  if (v.IsObject()) {
    Value s;
    if (!w.cleaner.clean_json(v, w.depth + 1, s)) return false;
    add(w.out, k, std::move(s), w.a());
  } else if (v.IsBool()) {
    add(w.out, k, Value(v.GetBool()), w.a());
  }
  return true;
}

// `items`: draft-04's tuple form (a list) is `prefixItems` today.
bool on_items(JsonWalk& w, std::string_view k, const Value& v) {
  if (!v.IsArray()) return on_subschema(w, k, v);
  Value arr;
  if (!clean_list(w, v, arr)) return false;
  add(w.out, "prefixItems", std::move(arr), w.a());
  return true;
}

// A keyword whose value is a list of schemas.
bool on_schema_list(JsonWalk& w, std::string_view k, const Value& v) {
  if (!v.IsArray()) return true;
  Value arr;
  if (!clean_list(w, v, arr)) return false;
  add(w.out, k, std::move(arr), w.a());
  return true;
}

// `properties`, `$defs`, and draft-07 `definitions` (merged into `$defs`): a map of schemas;
// the first definition of a name wins.
bool on_schema_map(JsonWalk& w, std::string_view k, const Value& v) {
  if (!v.IsObject()) return true;
  std::string_view target = k == "properties" ? "properties" : "$defs";
  if (!member(w.out, target)) add(w.out, target, Value(rapidjson::kObjectType), w.a());
  Value* dst = member(w.out, target);
  for (auto& p : v.GetObject()) {
    if (dst->HasMember(p.name)) continue;
    Value s;
    if (!w.cleaner.clean_json(p.value, w.depth + 1, s)) return false;
    dst->AddMember(Value(p.name, w.a()), std::move(s), w.a());
  }
  return true;
}

// A list of property names (non-strings dropped).
bool on_name_list(JsonWalk& w, std::string_view k, const Value& v) {
  if (!v.IsArray()) return true;
  Value arr(rapidjson::kArrayType);
  for (const Value& x : v.GetArray()) {
    if (x.IsString()) arr.PushBack(Value(x, w.a()), w.a());
  }
  add(w.out, k, std::move(arr), w.a());
  return true;
}

// `nullable`: an OpenAPI habit; applied to `type` after the walk (the last one counts).
bool on_nullable(JsonWalk& w, std::string_view, const Value& v) {
  if (v.IsBool()) w.nullable = v.GetBool();
  return true;
}

// Gemini's documented JSON-Schema keywords (plus the ones translated into them).
constexpr SchemaKeyword<JsonWalk> kKeywords[] = {
    {"$ref", &on_ref},
    {"$id", &copy_string},
    {"$anchor", &copy_string},
    {"$defs", &on_schema_map},
    {"definitions", &on_schema_map},
    {"type", &on_type},
    {"format", &copy_string},
    {"title", &copy_string},
    {"description", &copy_string},
    {"enum", &on_enum},
    {"const", &on_const},
    {"items", &on_items},
    {"prefixItems", &on_schema_list},
    {"additionalProperties", &on_subschema},
    {"anyOf", &on_schema_list},
    {"oneOf", &on_schema_list},
    {"minItems", &copy_number},
    {"maxItems", &copy_number},
    {"minimum", &copy_number},
    {"maximum", &copy_number},
    {"properties", &on_schema_map},
    {"required", &on_name_list},
    {"propertyOrdering", &on_name_list},
    {"nullable", &on_nullable},
};

// `type: X` with `nullable: true` → `type: [X, "null"]`.
void apply_nullable(JsonWalk& w) {
  Value* t = member(w.out, "type");
  if (!w.nullable || !t || !t->IsString() || sv(*t) == "null") return;
  Value arr(rapidjson::kArrayType);
  arr.PushBack(Value(*t, w.a()), w.a());
  arr.PushBack(Value("null"), w.a());
  *t = std::move(arr);
}

}  // namespace

bool SchemaCleaner::clean_json(const Value& in, int depth, Value& out) {
  if (!enter(depth)) return false;
  out.SetObject();
  if (in.IsBool()) return true;  // true/false schemas: Gemini has no such thing; "any"
  if (!in.IsObject()) return fail("a schema must be an object.");
  Value merged;
  const Value* src = &in;
  if (field(in, "allOf")) {
    if (!merge_all_of(in, depth, merged)) return false;
    src = &merged;
  }
  JsonWalk w(*this, *src, depth, out);
  const bool has_ref = field(*src, "$ref") != nullptr;
  for (auto& m : src->GetObject()) {
    std::string_view k = sv(m.name);
    // Beside $ref only "$" keywords may stand (Gemini's rule).
    if (has_ref && !k.starts_with("$") && k != "definitions") continue;
    auto handle = find_keyword(kKeywords, k);
    if (handle && !handle(w, k, m.value)) return false;
  }
  apply_nullable(w);
  return true;
}

}  // namespace gemgate::openai::detail
