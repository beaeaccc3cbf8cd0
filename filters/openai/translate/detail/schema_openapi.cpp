// SchemaMode::kOpenApi: a client's JSON Schema → Gemini's OpenAPI-3.0 subset (`parameters` /
// `responseSchema`), as LiteLLM and Portkey send it. The walker inlines `$ref` and merges
// `allOf` first, turns `anyOf`/`oneOf` with a null branch into `nullable`, then dispatches every
// other keyword through kKeywords (keywords missing from it are dropped), and finally writes
// what needs the whole object: `required`, `propertyOrdering`, `nullable`.
#include <algorithm>
#include <string>
#include <vector>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/detail/schema_cleaner.h"

namespace gemgate::openai::detail {

namespace {

// The schema object being cleaned: its output and what the keywords decided that is written
// after the walk.
struct OpenApiWalk {
  OpenApiWalk(SchemaCleaner& c, int d, Value& o) : cleaner(c), depth(d), out(o) {}
  SchemaCleaner& cleaner;
  int depth;
  Value& out;
  bool nullable = false;
  std::vector<std::string> order;   // property names, in the client's order
  const Value* required = nullptr;  // the first `required`, filtered once properties are known
  Alloc& a() { return cleaner.alloc(); }
};

bool is_null_schema(const Value& v) {
  const Value* t = field(v, "type");
  return t && t->IsString() && sv(*t) == "null" && v.MemberCount() == 1;
}

// Copies title/description of `from` onto `out` where `out` has none.
void keep_docs(const Value& from, Value& out, Alloc& a) {
  for (const char* k : {"title", "description"}) {
    const Value* v = field(from, k);
    if (v && v->IsString() && !out.HasMember(k)) add(out, k, Value(*v, a), a);
  }
}

// `type`: "null" (alone or in a list) means nullable; a list of several types is an anyOf
// (unless the schema has one already), since the OpenAPI subset takes one type name.
bool on_type(OpenApiWalk& w, std::string_view, const Value& v) {
  if (v.IsString()) {
    if (sv(v) == "null") {
      w.nullable = true;
    } else {
      add(w.out, "type", Value(v, w.a()), w.a());
    }
    return true;
  }
  if (!v.IsArray()) return true;
  std::vector<const Value*> types;
  for (const Value& t : v.GetArray()) {
    if (!t.IsString()) continue;
    if (sv(t) == "null") {
      w.nullable = true;
    } else {
      types.push_back(&t);
    }
  }
  if (types.size() == 1) {
    add(w.out, "type", Value(*types[0], w.a()), w.a());
  } else if (types.size() > 1 && !w.out.HasMember("anyOf")) {
    Value arr(rapidjson::kArrayType);
    for (const Value* t : types) {
      Value s(rapidjson::kObjectType);
      add(s, "type", Value(*t, w.a()), w.a());
      arr.PushBack(std::move(s), w.a());
    }
    add(w.out, "anyOf", std::move(arr), w.a());
  }
  return true;
}

// `format`: only the formats the OpenAPI subset knows.
bool on_format(OpenApiWalk& w, std::string_view, const Value& v) {
  if (!v.IsString()) return true;
  std::string_view f = sv(v);
  if (f == "enum" || f == "date-time" || f == "int32" || f == "int64" || f == "float" ||
      f == "double") {
    add(w.out, "format", Value(v, w.a()), w.a());
  }
  return true;
}

bool copy_string(OpenApiWalk& w, std::string_view k, const Value& v) {
  if (v.IsString()) add(w.out, k, Value(v, w.a()), w.a());
  return true;
}

bool copy_number(OpenApiWalk& w, std::string_view k, const Value& v) {
  if (v.IsNumber()) add(w.out, k, Value(v, w.a()), w.a());
  return true;
}

bool copy_any(OpenApiWalk& w, std::string_view k, const Value& v) {
  add(w.out, k, Value(v, w.a()), w.a());
  return true;
}

// `enum` or `const` (the first of them wins): non-empty strings only (Gemini refuses "").
bool on_enum(OpenApiWalk& w, std::string_view, const Value& v) {
  if (w.out.HasMember("enum")) return true;
  Value e(rapidjson::kArrayType);
  auto take = [&](const Value& x) {
    if (x.IsString() && x.GetStringLength() > 0) e.PushBack(Value(x, w.a()), w.a());
  };
  if (v.IsArray()) {
    for (const Value& x : v.GetArray()) take(x);
  } else {
    take(v);
  }
  if (!e.Empty()) add(w.out, "enum", std::move(e), w.a());
  return true;
}

// `items`: one schema; of a tuple form only the first element is kept.
bool on_items(OpenApiWalk& w, std::string_view, const Value& v) {
  const Value* item = v.IsArray() ? (v.Empty() ? nullptr : &v[0]) : &v;
  if (!item) return true;
  Value s;
  if (!w.cleaner.clean_openapi(*item, w.depth + 1, s)) return false;
  add(w.out, "items", std::move(s), w.a());
  return true;
}

// `properties`: each cleaned, their order remembered for `propertyOrdering`.
bool on_properties(OpenApiWalk& w, std::string_view, const Value& v) {
  if (!v.IsObject()) return true;
  Value props(rapidjson::kObjectType);
  for (auto& p : v.GetObject()) {
    Value s;
    if (!w.cleaner.clean_openapi(p.value, w.depth + 1, s)) return false;
    props.AddMember(Value(p.name, w.a()), std::move(s), w.a());
    w.order.emplace_back(sv(p.name));
  }
  add(w.out, "properties", std::move(props), w.a());
  return true;
}

// `required`: written after the walk, when every declared property is known.
bool on_required(OpenApiWalk& w, std::string_view, const Value& v) {
  if (!w.required) w.required = &v;
  return true;
}

bool on_nullable(OpenApiWalk& w, std::string_view, const Value& v) {
  if (v.IsBool()) w.nullable = w.nullable || v.GetBool();
  return true;
}

// The keywords of Gemini's OpenAPI subset. `$ref`, `allOf`, `anyOf` and `oneOf` are handled
// by the walker before the keywords are.
constexpr SchemaKeyword<OpenApiWalk> kKeywords[] = {
    {"type", &on_type},
    {"format", &on_format},
    {"title", &copy_string},
    {"description", &copy_string},
    {"pattern", &copy_string},
    {"enum", &on_enum},
    {"const", &on_enum},
    {"items", &on_items},
    {"minItems", &copy_number},
    {"maxItems", &copy_number},
    {"minProperties", &copy_number},
    {"maxProperties", &copy_number},
    {"minLength", &copy_number},
    {"maxLength", &copy_number},
    {"minimum", &copy_number},
    {"maximum", &copy_number},
    {"properties", &on_properties},
    {"required", &on_required},
    {"nullable", &on_nullable},
    {"example", &copy_any},
    {"default", &copy_any},
};

// Replaces `in` (which has `$ref: name`) by its target, cleaned; a recursive type cannot be
// inlined, so the cycle is cut to {"type":"object"} rather than refusing the request.
bool inline_ref(SchemaCleaner& c, const Value& in, const std::string& name, int depth, Value& out) {
  const Value* target = c.resolve(name);
  if (!target) return c.fail("unresolvable $ref '" + name + "'.");
  std::vector<std::string>& path = c.inlining();
  if (std::find(path.begin(), path.end(), name) != path.end()) {
    add(out, "type", "object", c.alloc());
  } else {
    path.push_back(name);
    bool ok = c.clean_openapi(*target, depth + 1, out);
    path.pop_back();
    if (!ok) return false;
  }
  keep_docs(in, out, c.alloc());
  return true;
}

// `anyOf` (else `oneOf`) of `src`: null branches become `nullable`; a single remaining branch
// replaces the whole schema (`*collapsed` set: the caller is done), several become `anyOf`.
bool clean_union(OpenApiWalk& w, const Value& src, bool* collapsed) {
  const Value* union_of = field(src, "anyOf");
  if (!union_of) union_of = field(src, "oneOf");
  if (!union_of || !union_of->IsArray()) return true;
  std::vector<const Value*> branches;
  for (const Value& b : union_of->GetArray()) {
    if (is_null_schema(b)) {
      w.nullable = true;
    } else {
      branches.push_back(&b);
    }
  }
  if (branches.size() == 1) {  // anyOf:[X,{type:null}] → X, nullable
    *collapsed = true;
    if (!w.cleaner.clean_openapi(*branches[0], w.depth + 1, w.out)) return false;
    keep_docs(src, w.out, w.a());
    if (w.nullable) add(w.out, "nullable", Value(true), w.a());
    return true;
  }
  Value arr(rapidjson::kArrayType);
  for (const Value* b : branches) {
    Value s;
    if (!w.cleaner.clean_openapi(*b, w.depth + 1, s)) return false;
    arr.PushBack(std::move(s), w.a());
  }
  if (!arr.Empty()) add(w.out, "anyOf", std::move(arr), w.a());
  return true;
}

// After the walk: `required` may only name declared properties; declared properties make an
// object whose output order is the client's (Gemini orders keys alphabetically otherwise).
void finish(OpenApiWalk& w) {
  const Value* req = w.required;
  if (req && req->IsArray() && !w.order.empty()) {
    Value arr(rapidjson::kArrayType);
    for (const Value& r : req->GetArray()) {
      if (r.IsString() && std::find(w.order.begin(), w.order.end(), sv(r)) != w.order.end()) {
        arr.PushBack(Value(r, w.a()), w.a());
      }
    }
    if (!arr.Empty()) add(w.out, "required", std::move(arr), w.a());
  }
  if (!w.order.empty()) {
    if (!w.out.HasMember("type")) add(w.out, "type", "object", w.a());
    Value arr(rapidjson::kArrayType);
    for (const auto& name : w.order) arr.PushBack(str(name, w.a()), w.a());
    add(w.out, "propertyOrdering", std::move(arr), w.a());
  }
  if (w.nullable) add(w.out, "nullable", Value(true), w.a());
}

}  // namespace

bool SchemaCleaner::clean_openapi(const Value& in, int depth, Value& out) {
  if (!enter(depth)) return false;
  out.SetObject();
  if (in.IsBool() || (in.IsObject() && in.ObjectEmpty())) {
    add(out, "type", "object", alloc());  // "anything": Gemini needs a type (as LiteLLM)
    return true;
  }
  if (!in.IsObject()) return fail("a schema must be an object.");
  if (const Value* ref = field(in, "$ref"); ref && ref->IsString()) {
    return inline_ref(*this, in, std::string(sv(*ref)), depth, out);
  }
  Value merged;
  const Value* src = &in;
  if (field(in, "allOf")) {
    if (!merge_all_of(in, depth, merged)) return false;
    src = &merged;
  }
  OpenApiWalk w(*this, depth, out);
  bool collapsed = false;
  if (!clean_union(w, *src, &collapsed)) return false;
  if (collapsed) return true;
  for (auto& m : src->GetObject()) {
    std::string_view k = sv(m.name);
    auto handle = find_keyword(kKeywords, k);
    if (handle && !handle(w, k, m.value)) return false;
  }
  finish(w);
  return true;
}

}  // namespace gemgate::openai::detail
