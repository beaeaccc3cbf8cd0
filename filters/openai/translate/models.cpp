#include "filters/openai/translate/models.h"

#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::openai {

using detail::Alloc;
using detail::Document;
using detail::field;
using detail::sv;
using detail::Value;

namespace {

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// {"name":"models/x",...} → entry; false when the object has no usable name.
bool entry_of(const Value& m, ModelEntry* out) {
  const Value* name = field(m, "name");
  if (!name || !name->IsString()) return false;
  std::string_view id = sv(*name);
  if (id.starts_with("models/")) id.remove_prefix(7);
  if (id.empty()) return false;
  out->id = id;
  return true;
}

Value model_json(const ModelEntry& m, Alloc& a) {
  Value v(rapidjson::kObjectType);
  detail::add(v, "id", m.id, a);
  detail::add(v, "object", "model", a);
  detail::add(v, "created", Value(m.created), a);
  detail::add(v, "owned_by", m.owned_by, a);
  return v;
}

Expected<bool> parse_reply(std::string_view body, Document& doc) {
  std::string err;
  if (!detail::parse_json(body, doc, &err) || !doc.IsObject()) {
    return OpenAIError::bad_upstream("The Gemini models reply is not a JSON object.");
  }
  if (field(doc, "error")) return translate_gemini_error(200, body);
  return true;
}

}  // namespace

std::string models_list_path(std::string_view page_token, int page_size) {
  std::string path = "/v1beta/models?pageSize=" + std::to_string(page_size);
  if (!page_token.empty()) path += "&pageToken=" + percent_encode(page_token);
  return path;
}

Expected<std::string> model_get_path(std::string_view openai_model_id) {
  auto id = upstream_model_name(openai_model_id, "model");
  if (!id) return id.error();
  return "/v1beta/models/" + *id;
}

Expected<ModelsPage> parse_models_page(std::string_view gemini_body) {
  Document doc;
  if (auto ok = parse_reply(gemini_body, doc); !ok) return ok.error();
  ModelsPage page;
  if (const Value* models = field(doc, "models")) {
    if (!models->IsArray()) return OpenAIError::bad_upstream("Gemini 'models' is not an array.");
    for (const Value& m : models->GetArray()) {
      ModelEntry e;
      if (entry_of(m, &e)) page.models.push_back(std::move(e));
    }
  }
  if (const Value* t = field(doc, "nextPageToken"); t && t->IsString()) {
    page.next_page_token = sv(*t);
  }
  return page;
}

std::string render_models_list(const std::vector<ModelEntry>& models) {
  Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  Value data(rapidjson::kArrayType);
  for (const auto& m : models) data.PushBack(model_json(m, a), a);
  detail::add(d, "object", "list", a);
  detail::add(d, "data", std::move(data), a);
  return detail::write_json(d);
}

Expected<std::string> translate_models_list(std::string_view gemini_body) {
  auto page = parse_models_page(gemini_body);
  if (!page) return page.error();
  return render_models_list(page->models);
}

Expected<std::string> translate_model(std::string_view gemini_body) {
  Document doc;
  if (auto ok = parse_reply(gemini_body, doc); !ok) return ok.error();
  ModelEntry e;
  if (!entry_of(doc, &e)) return OpenAIError::bad_upstream("The Gemini model has no name.");
  Document out;
  Value v = model_json(e, out.GetAllocator());
  return detail::write_json(v);
}

}  // namespace gemgate::openai
