#include "filters/anthropic/translate/models.h"

#include <cctype>

#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::anthropic {

namespace {

using openai::detail::add;
using openai::detail::Alloc;
using openai::detail::Document;
using openai::detail::field;
using openai::detail::sv;
using openai::detail::Value;

// One Gemini model → {"type":"model","id","display_name","created_at"}; null if it has no name.
Value model_json(const Value& m, Alloc& a) {
  const Value* name = m.IsObject() ? field(m, "name") : nullptr;
  if (!name || !name->IsString()) return Value();
  std::string_view id = sv(*name);
  if (id.starts_with("models/")) id.remove_prefix(7);
  const Value* dn = field(m, "displayName");
  Value out(rapidjson::kObjectType);
  add(out, "type", "model", a);
  add(out, "id", id, a);
  add(out, "display_name", dn && dn->IsString() ? sv(*dn) : id, a);
  add(out, "created_at", "1970-01-01T00:00:00Z", a);
  return out;
}

}  // namespace

Expected<std::string> model_get_path(std::string_view id) {
  if (id.starts_with("models/")) id.remove_prefix(7);
  bool ok = !id.empty() && id.size() <= 128;
  for (char c : id) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
  }
  if (!ok) return error_for_status(404, "model: " + std::string(id) + " is not a model");
  return "/v1beta/models/" + std::string(id);
}

Expected<std::string> translate_models_list(std::string_view gemini_body) {
  Document g;
  std::string why;
  if (!openai::detail::parse_json(gemini_body, g, &why) || !g.IsObject())
    return AnthropicError::bad_upstream("the upstream models list is not valid JSON");
  Document r(rapidjson::kObjectType);
  auto& a = r.GetAllocator();
  Value data(rapidjson::kArrayType);
  if (const Value* models = field(g, "models"); models && models->IsArray()) {
    for (const Value& m : models->GetArray()) {
      Value v = model_json(m, a);
      if (!v.IsNull()) data.PushBack(std::move(v), a);
    }
  }
  Value first = data.Empty() ? Value() : Value(data[0]["id"], a);
  Value last = data.Empty() ? Value() : Value(data[data.Size() - 1]["id"], a);
  add(r, "data", std::move(data), a);
  add(r, "has_more", Value(false), a);
  add(r, "first_id", std::move(first), a);
  add(r, "last_id", std::move(last), a);
  return openai::detail::write_json(r);
}

Expected<std::string> translate_model(std::string_view gemini_body) {
  Document g;
  std::string why;
  if (!openai::detail::parse_json(gemini_body, g, &why) || !g.IsObject())
    return AnthropicError::bad_upstream("the upstream model is not valid JSON");
  Document r;
  Value v = model_json(g, r.GetAllocator());
  if (v.IsNull()) return AnthropicError::bad_upstream("the upstream model has no name");
  return openai::detail::write_json(v);
}

}  // namespace gemgate::anthropic
