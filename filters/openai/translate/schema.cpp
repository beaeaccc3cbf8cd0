// JSON Schema → Gemini schema (see schema.h for the two dialects and their rules).
#include "filters/openai/translate/schema.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::openai {

namespace {

using detail::Alloc;
using detail::field;
using detail::sv;
using detail::Value;

bool is_number(const Value& v) {
  return v.IsNumber();
}

// One cleaning run: remembers the root (for $ref look-ups), counts produced nodes, keeps the
// first error.
class Cleaner {
 public:
  Cleaner(SchemaMode mode, Alloc& a, const Value& root, const std::string& param)
      : mode_(mode), a_(a), root_(root), param_(param), start_bytes_(a.Size()) {}

  bool run(const Value& in, Value& out) {
    return mode_ == SchemaMode::kJsonSchema ? clean_json(in, 0, out) : clean_openapi(in, 0, out);
  }
  const OpenAIError& error() const { return *error_; }

 private:
  bool fail(std::string why) {
    if (!error_) {
      error_ = OpenAIError::invalid("Invalid schema in '" + param_ + "': " + std::move(why), param_,
                                    "invalid_schema");
    }
    return false;
  }

  // Depth and size budget shared by both dialects.
  bool enter(int depth) {
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

  // "#/$defs/X" or "#/definitions/X" against the root schema; nullptr if it does not resolve.
  const Value* resolve(std::string_view ref) const {
    for (std::string_view prefix : {"#/$defs/", "#/definitions/"}) {
      if (!ref.starts_with(prefix)) continue;
      const Value* defs = field(root_, prefix == "#/$defs/" ? "$defs" : "definitions");
      if (!defs || !defs->IsObject()) return nullptr;
      return field(*defs, ref.substr(prefix.size()));
    }
    if (ref == "#") return &root_;
    return nullptr;
  }

  // Copies `in` without `allOf`, then folds every allOf branch in: properties and required are
  // unioned, other keywords are taken from the first place that sets them.
  bool merge_all_of(const Value& in, int depth, Value& out) {
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
      for (auto& m : b->GetObject()) {
        std::string_view k = sv(m.name);
        Value* have = detail::member(out, m.name);
        if (!have) {
          out.AddMember(Value(m.name, a_), Value(m.value, a_), a_);
        } else if (k == "properties" && have->IsObject() && m.value.IsObject()) {
          for (auto& p : m.value.GetObject()) {
            if (!have->HasMember(p.name)) {
              have->AddMember(Value(p.name, a_), Value(p.value, a_), a_);
            }
          }
        } else if (k == "required" && have->IsArray() && m.value.IsArray()) {
          for (const Value& r : m.value.GetArray()) {
            auto& arr = *have;
            if (std::find(arr.Begin(), arr.End(), r) == arr.End()) arr.PushBack(Value(r, a_), a_);
          }
        }
      }
    }
    return true;
  }

  // --- Option A: Gemini's JSON-Schema fields -------------------------------------------------

  bool clean_json(const Value& in, int depth, Value& out) {
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
    const Value* ref = field(*src, "$ref");
    bool nullable = false;
    for (auto& m : src->GetObject()) {
      std::string_view k = sv(m.name);
      const Value& v = m.value;
      // Beside $ref only "$" keywords may stand (Gemini's rule).
      if (ref && !k.starts_with("$") && k != "definitions") continue;
      if (k == "$ref" && v.IsString()) {
        std::string r(sv(v));
        if (r.starts_with("#/definitions/")) r = "#/$defs/" + r.substr(14);
        detail::add(out, "$ref", r, a_);
      } else if (k == "type" && (v.IsString() || v.IsArray())) {
        Value t(v, a_);
        if (t.IsArray()) {
          t.SetArray();
          for (const Value& x : v.GetArray()) {
            if (x.IsString()) t.PushBack(Value(x, a_), a_);
          }
        }
        detail::add(out, "type", std::move(t), a_);
      } else if ((k == "format" || k == "title" || k == "description" || k == "$id" ||
                  k == "$anchor") &&
                 v.IsString()) {
        detail::add(out, k, Value(v, a_), a_);
      } else if (k == "enum" && v.IsArray()) {
        Value e(rapidjson::kArrayType);
        for (const Value& x : v.GetArray()) {
          if (x.IsString() || is_number(x)) e.PushBack(Value(x, a_), a_);
        }
        if (!e.Empty()) detail::add(out, "enum", std::move(e), a_);
      } else if (k == "const" && (v.IsString() || is_number(v)) && !field(*src, "enum")) {
        Value e(rapidjson::kArrayType);
        e.PushBack(Value(v, a_), a_);
        detail::add(out, "enum", std::move(e), a_);
      } else if (k == "items" && v.IsArray()) {  // draft-04 tuple form
        Value arr;
        if (!clean_json_array(v, depth, arr)) return false;
        detail::add(out, "prefixItems", std::move(arr), a_);
      } else if ((k == "items" || k == "additionalProperties") && v.IsObject()) {
        Value s;
        if (!clean_json(v, depth + 1, s)) return false;
        detail::add(out, k, std::move(s), a_);
      } else if ((k == "items" || k == "additionalProperties") && v.IsBool()) {
        detail::add(out, k, Value(v.GetBool()), a_);
      } else if ((k == "prefixItems" || k == "anyOf" || k == "oneOf") && v.IsArray()) {
        Value arr;
        if (!clean_json_array(v, depth, arr)) return false;
        detail::add(out, k, std::move(arr), a_);
      } else if ((k == "minItems" || k == "maxItems" || k == "minimum" || k == "maximum") &&
                 is_number(v)) {
        detail::add(out, k, Value(v, a_), a_);
      } else if ((k == "properties" || k == "$defs" || k == "definitions") && v.IsObject()) {
        std::string_view target = k == "properties" ? "properties" : "$defs";
        if (!detail::member(out, target))
          detail::add(out, target, Value(rapidjson::kObjectType), a_);
        Value* dst = detail::member(out, target);
        for (auto& p : v.GetObject()) {
          if (dst->HasMember(p.name)) continue;
          Value s;
          if (!clean_json(p.value, depth + 1, s)) return false;
          dst->AddMember(Value(p.name, a_), std::move(s), a_);
        }
      } else if ((k == "required" || k == "propertyOrdering") && v.IsArray()) {
        Value arr(rapidjson::kArrayType);
        for (const Value& x : v.GetArray()) {
          if (x.IsString()) arr.PushBack(Value(x, a_), a_);
        }
        detail::add(out, k, std::move(arr), a_);
      } else if (k == "nullable" && v.IsBool()) {
        nullable = v.GetBool();  // OpenAPI habit: express it the JSON-Schema way below
      }
      // Everything else ($schema, strict, default, examples, pattern, minLength, not, if/then/
      // else, patternProperties, exclusiveMinimum, ...) is not in Gemini's list: dropped.
    }
    Value* t = detail::member(out, "type");
    if (nullable && t && t->IsString() && sv(*t) != "null") {
      Value arr(rapidjson::kArrayType);
      arr.PushBack(Value(*t, a_), a_);
      arr.PushBack(Value("null"), a_);
      *t = std::move(arr);
    }
    return true;
  }

  bool clean_json_array(const Value& v, int depth, Value& out) {
    out.SetArray();
    for (const Value& x : v.GetArray()) {
      Value s;
      if (!clean_json(x, depth + 1, s)) return false;
      out.PushBack(std::move(s), a_);
    }
    return true;
  }

  // --- Option B: Gemini's OpenAPI subset -------------------------------------------------------

  static bool is_null_schema(const Value& v) {
    const Value* t = field(v, "type");
    return t && t->IsString() && sv(*t) == "null" && v.MemberCount() == 1;
  }

  // Copies title/description of `from` onto `out` where `out` has none.
  void keep_docs(const Value& from, Value& out) {
    for (const char* k : {"title", "description"}) {
      const Value* v = field(from, k);
      if (v && v->IsString() && !out.HasMember(k)) detail::add(out, k, Value(*v, a_), a_);
    }
  }

  bool clean_openapi(const Value& in, int depth, Value& out) {
    if (!enter(depth)) return false;
    out.SetObject();
    if (in.IsBool() || (in.IsObject() && in.ObjectEmpty())) {
      detail::add(out, "type", "object", a_);  // "anything": Gemini needs a type (as LiteLLM)
      return true;
    }
    if (!in.IsObject()) return fail("a schema must be an object.");

    if (const Value* ref = field(in, "$ref"); ref && ref->IsString()) {
      std::string name(sv(*ref));
      const Value* target = resolve(name);
      if (!target) return fail("unresolvable $ref '" + name + "'.");
      if (std::find(refs_.begin(), refs_.end(), name) != refs_.end()) {
        // A recursive type cannot be inlined; cut the cycle here rather than refuse the request.
        detail::add(out, "type", "object", a_);
      } else {
        refs_.push_back(name);
        bool ok = clean_openapi(*target, depth + 1, out);
        refs_.pop_back();
        if (!ok) return false;
      }
      keep_docs(in, out);
      return true;
    }

    Value merged;
    const Value* src = &in;
    if (field(in, "allOf")) {
      if (!merge_all_of(in, depth, merged)) return false;
      src = &merged;
    }

    bool nullable = false;
    const Value* union_of = field(*src, "anyOf");
    if (!union_of) union_of = field(*src, "oneOf");
    if (union_of && union_of->IsArray()) {
      std::vector<const Value*> branches;
      for (const Value& b : union_of->GetArray()) {
        if (is_null_schema(b)) {
          nullable = true;
        } else {
          branches.push_back(&b);
        }
      }
      if (branches.size() == 1) {  // anyOf:[X,{type:null}] → X, nullable
        if (!clean_openapi(*branches[0], depth + 1, out)) return false;
        keep_docs(*src, out);
        if (nullable) detail::add(out, "nullable", Value(true), a_);
        return true;
      }
      Value arr(rapidjson::kArrayType);
      for (const Value* b : branches) {
        Value s;
        if (!clean_openapi(*b, depth + 1, s)) return false;
        arr.PushBack(std::move(s), a_);
      }
      if (!arr.Empty()) detail::add(out, "anyOf", std::move(arr), a_);
    }

    std::vector<std::string> order;
    for (auto& m : src->GetObject()) {
      std::string_view k = sv(m.name);
      const Value& v = m.value;
      if (k == "type" && v.IsString()) {
        if (sv(v) == "null") {
          nullable = true;
        } else {
          detail::add(out, "type", Value(v, a_), a_);
        }
      } else if (k == "type" && v.IsArray()) {
        std::vector<const Value*> types;
        for (const Value& t : v.GetArray()) {
          if (!t.IsString()) continue;
          if (sv(t) == "null") {
            nullable = true;
          } else {
            types.push_back(&t);
          }
        }
        if (types.size() == 1) {
          detail::add(out, "type", Value(*types[0], a_), a_);
        } else if (types.size() > 1 && !out.HasMember("anyOf")) {
          Value arr(rapidjson::kArrayType);
          for (const Value* t : types) {
            Value s(rapidjson::kObjectType);
            detail::add(s, "type", Value(*t, a_), a_);
            arr.PushBack(std::move(s), a_);
          }
          detail::add(out, "anyOf", std::move(arr), a_);
        }
      } else if (k == "format" && v.IsString()) {
        std::string_view f = sv(v);
        if (f == "enum" || f == "date-time" || f == "int32" || f == "int64" || f == "float" ||
            f == "double") {
          detail::add(out, "format", Value(v, a_), a_);
        }
      } else if ((k == "title" || k == "description" || k == "pattern") && v.IsString()) {
        detail::add(out, k, Value(v, a_), a_);
      } else if ((k == "enum" || k == "const") && !out.HasMember("enum")) {
        Value e(rapidjson::kArrayType);
        auto take = [&](const Value& x) {  // Gemini refuses "" in enums
          if (x.IsString() && x.GetStringLength() > 0) e.PushBack(Value(x, a_), a_);
        };
        if (v.IsArray()) {
          for (const Value& x : v.GetArray()) take(x);
        } else {
          take(v);
        }
        if (!e.Empty()) detail::add(out, "enum", std::move(e), a_);
      } else if (k == "items") {
        const Value* item = v.IsArray() ? (v.Empty() ? nullptr : &v[0]) : &v;
        if (item) {
          Value s;
          if (!clean_openapi(*item, depth + 1, s)) return false;
          detail::add(out, "items", std::move(s), a_);
        }
      } else if ((k == "minItems" || k == "maxItems" || k == "minProperties" ||
                  k == "maxProperties" || k == "minLength" || k == "maxLength" || k == "minimum" ||
                  k == "maximum") &&
                 is_number(v)) {
        detail::add(out, k, Value(v, a_), a_);
      } else if (k == "properties" && v.IsObject()) {
        Value props(rapidjson::kObjectType);
        for (auto& p : v.GetObject()) {
          Value s;
          if (!clean_openapi(p.value, depth + 1, s)) return false;
          props.AddMember(Value(p.name, a_), std::move(s), a_);
          order.emplace_back(sv(p.name));
        }
        detail::add(out, "properties", std::move(props), a_);
      } else if (k == "nullable" && v.IsBool()) {
        nullable = nullable || v.GetBool();
      } else if (k == "example" || k == "default") {
        detail::add(out, k, Value(v, a_), a_);
      }
    }
    // `required` may only name declared properties.
    if (const Value* req = field(*src, "required"); req && req->IsArray() && !order.empty()) {
      Value arr(rapidjson::kArrayType);
      for (const Value& r : req->GetArray()) {
        if (r.IsString() && std::find(order.begin(), order.end(), sv(r)) != order.end()) {
          arr.PushBack(Value(r, a_), a_);
        }
      }
      if (!arr.Empty()) detail::add(out, "required", std::move(arr), a_);
    }
    if (!order.empty()) {
      if (!out.HasMember("type")) detail::add(out, "type", "object", a_);
      Value arr(rapidjson::kArrayType);
      for (const auto& name : order) arr.PushBack(detail::str(name, a_), a_);
      detail::add(out, "propertyOrdering", std::move(arr), a_);
    }
    if (nullable) detail::add(out, "nullable", Value(true), a_);
    return true;
  }

  SchemaMode mode_;
  Alloc& a_;
  const Value& root_;
  const std::string& param_;
  size_t start_bytes_;  // a_.Size() when the run started
  int nodes_ = 0;
  std::vector<std::string> refs_;  // $refs being inlined on the current path (cycle check)
  std::optional<OpenAIError> error_;
};

}  // namespace

Expected<rapidjson::Value> clean_schema(const rapidjson::Value& schema, SchemaMode mode,
                                        rapidjson::Document::AllocatorType& alloc,
                                        const std::string& param) {
  Cleaner cleaner(mode, alloc, schema, param);
  Value out;
  if (!cleaner.run(schema, out)) return cleaner.error();
  return Expected<rapidjson::Value>(std::move(out));
}

}  // namespace gemgate::openai
