#include "filters/models/models_filter.h"

#include <cctype>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/exchange.h"
#include "core/json.h"
#include "core/text.h"
#include "filters/common/gemini_paths.h"

namespace gemgate::models {

namespace {

bool is_hidden(const Settings& settings, std::string_view model) {
  const rapidjson::Value* hidden = settings.get(kHiddenModels);
  if (!hidden || !hidden->IsArray()) return false;
  for (const auto& v : hidden->GetArray()) {
    if (v.IsString() && model == std::string_view(v.GetString(), v.GetStringLength())) return true;
  }
  return false;
}

}  // namespace

std::string alias_target(const Settings& settings, std::string_view model) {
  const rapidjson::Value* aliases = settings.get(kModelAliases);
  if (!aliases || !aliases->IsObject()) return "";
  // An exact alias wins; then the first pattern (a name with '*') that matches, in order.
  for (const auto& m : aliases->GetObject()) {
    if (model == std::string_view(m.name.GetString(), m.name.GetStringLength()) &&
        m.value.IsString()) {
      return m.value.GetString();
    }
  }
  for (const auto& m : aliases->GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name.find('*') != std::string_view::npos && m.value.IsString() &&
        text::glob_match(name, model))
      return m.value.GetString();
  }
  return "";
}

namespace {

bool has_rules(const Settings& s) {
  const rapidjson::Value* a = s.get(kModelAliases);
  const rapidjson::Value* h = s.get(kHiddenModels);
  return (a && a->IsObject() && a->MemberCount() > 0) || (h && h->IsArray() && h->Size() > 0);
}

// Whether a models list needs rewriting: hidden models, or an exact alias (patterns are not
// listed). Without either, a native list passes byte for byte.
bool changes_lists(const Settings& s) {
  const rapidjson::Value* h = s.get(kHiddenModels);
  if (h && h->IsArray() && h->Size() > 0) return true;
  const rapidjson::Value* a = s.get(kModelAliases);
  if (!a || !a->IsObject()) return false;
  for (const auto& m : a->GetObject()) {
    if (std::string_view(m.name.GetString(), m.name.GetStringLength()).find('*') ==
        std::string_view::npos)
      return true;
  }
  return false;
}

class ModelsFilter final : public Filter {
 public:
  Status on_request(FilterCallbacks& x) override {
    const Settings& settings = x.settings();
    if (!has_rules(settings)) return Status::Continue;
    http::Request& req = x.request();
    listing_ = req.method == "GET" && gemini::is_models_list(req.path) && changes_lists(settings);
    std::string_view asked = gemini::model_in_path(req.path);
    if (asked.empty()) return Status::Continue;
    std::string target = alias_target(settings, asked);
    if (!target.empty()) req.path = gemini::replace_model_in_path(req.path, target);
    std::string_view model = target.empty() ? asked : std::string_view(target);
    if (is_hidden(settings, model) || is_hidden(settings, gemini::model_in_path(x.info().path))) {
      x.reply_local(404, "NOT_FOUND",
                    "model " + gemini::model_from_path(x.info().path) + " is not available");
      return Status::Stop;
    }
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (!listing_ || r.local_error || r.status != 200) return Status::Continue;
    rewrite_list(x.settings(), r.body);
    return Status::Continue;
  }

 private:
  // Drops hidden models from a models list and adds each alias as a copy of its target.
  static void rewrite_list(const Settings& settings, std::string& body) {
    rapidjson::Document doc;
    if (!json::parse(doc, body) || !doc.IsObject()) return;
    auto models = doc.FindMember("models");
    if (models == doc.MemberEnd() || !models->value.IsArray()) return;
    rapidjson::Value kept(rapidjson::kArrayType);
    auto& alloc = doc.GetAllocator();
    const rapidjson::Value* aliases = settings.get(kModelAliases);
    for (auto& m : models->value.GetArray()) {
      auto name = m.IsObject() ? m.FindMember("name") : rapidjson::Value::MemberIterator();
      std::string id = (m.IsObject() && name != m.MemberEnd() && name->value.IsString())
                           ? gemini::model_from_path(std::string("/") + name->value.GetString())
                           : "";
      if (!id.empty() && is_hidden(settings, id)) continue;
      if (aliases && aliases->IsObject() && !id.empty()) {
        for (const auto& a : aliases->GetObject()) {
          if (!a.value.IsString() || id != a.value.GetString()) continue;
          if (std::string_view(a.name.GetString()).find('*') != std::string_view::npos) continue;
          rapidjson::Value copy(m, alloc);
          std::string alias_name = std::string("models/") + a.name.GetString();
          copy["name"].SetString(alias_name.c_str(),
                                 static_cast<rapidjson::SizeType>(alias_name.size()), alloc);
          kept.PushBack(copy, alloc);
        }
      }
      kept.PushBack(rapidjson::Value(m, alloc), alloc);
    }
    models->value = kept;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    doc.Accept(w);
    body.assign(buf.GetString(), buf.GetSize());
  }

  bool listing_ = false;
};

bool valid_model_name(std::string_view s, bool pattern = false) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
          (pattern && c == '*')))
      return false;
  }
  return true;
}

std::string check_aliases(const rapidjson::Value& v) {
  if (!v.IsObject()) return "must be an object of alias names to model names";
  for (const auto& m : v.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (!valid_model_name(name, true))
      return "alias '" + std::string(name) + "' is not a valid model name or pattern";
    if (!m.value.IsString() || !valid_model_name(m.value.GetString())) {
      return "the target of '" + std::string(name) + "' must be a model name";
    }
  }
  return "";
}

std::string check_hidden(const rapidjson::Value& v) {
  if (!v.IsArray()) return "must be a list of model names";
  for (const auto& m : v.GetArray()) {
    if (!m.IsString() || !valid_model_name(m.GetString())) return "must be a list of model names";
  }
  return "";
}

}  // namespace

Result<void> register_models_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kModelAliases.with({.description = "Model aliases: {\"alias\": \"gemini-model\"}. Requests "
                                         "for an alias go to its model; an alias with '*' is a "
                                         "pattern (exact names first, then the first pattern "
                                         "that matches).",
                          .default_json = std::string(kDefaultModelAliases),
                          .check = &check_aliases}),
      kHiddenModels.with(
          {.description = "Models left out of model lists and refused with 404: [\"model\", ...].",
           .default_json = "[]",
           .check = &check_hidden}),
  });
  if (!declared.ok()) return declared;
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "models",
      .summary = "applies model aliases and hidden models",
      .build = [](const FilterBuild<NoConfig>&) -> std::optional<FilterFactory> {
        return FilterFactory([] { return std::make_unique<ModelsFilter>(); });
      },
  });
}

}  // namespace gemgate::models
