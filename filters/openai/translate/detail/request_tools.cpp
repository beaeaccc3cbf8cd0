// tools / legacy functions → tools[].functionDeclarations, tool_choice / legacy function_call →
// toolConfig.functionCallingConfig.
#include <algorithm>

#include "filters/openai/translate/detail/request_parts.h"

namespace gemgate::openai::detail {

namespace {

// OpenAI allows ^[a-zA-Z0-9_-]{1,64}$; Gemini also allows '.' and ':'. Checked here so the client
// gets a message naming its field rather than Gemini's.
bool valid_function_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  });
}

// Gemini refuses OBJECT schemas with empty `properties`: such parameters, and
// schemas without any structure at all, are left out of the declaration.
bool has_structure(const Value& schema) {
  const Value* props = field(schema, "properties");
  if (props && props->IsObject() && !props->ObjectEmpty()) return true;
  return schema.HasMember("$ref") || schema.HasMember("anyOf") || schema.HasMember("oneOf");
}

// One {"name","description","parameters"} (the `function` of a tool, or a legacy function).
Failure declaration(const Value& fn, const std::string& p, RequestState& st, Value& decls,
                    std::vector<std::string>& names) {
  Alloc& a = st.a;
  if (!fn.IsObject()) return wrong_type(p, "an object", fn);
  const Value* name = field(fn, "name");
  if (!name) return missing_param(join(p, "name"));
  if (!name->IsString()) return wrong_type(join(p, "name"), "a string", *name);
  if (!valid_function_name(sv(*name))) {
    return bad_value(join(p, "name"),
                     "function names are 1-64 characters of a-z, A-Z, 0-9, '_', '-', '.', ':'.");
  }
  std::string n(sv(*name));
  if (std::find(names.begin(), names.end(), n) != names.end()) {
    return bad_value(join(p, "name"), "duplicate function name '" + n + "'.");
  }
  names.push_back(n);
  Value decl(rapidjson::kObjectType);
  add(decl, "name", n, a);
  if (const Value* d = field(fn, "description")) {
    if (!d->IsString()) return wrong_type(join(p, "description"), "a string", *d);
    add(decl, "description", Value(*d, a), a);
  }
  if (const Value* params = field(fn, "parameters")) {
    std::string pp = join(p, "parameters");
    if (!params->IsObject()) return wrong_type(pp, "an object", *params);
    auto cleaned = clean_schema(*params, st.options.schema_mode, a, pp);
    if (!cleaned) return cleaned.error();
    if (has_structure(*cleaned)) {
      bool json_schema = st.options.schema_mode == SchemaMode::kJsonSchema;
      add(decl, json_schema ? "parametersJsonSchema" : "parameters", std::move(*cleaned), a);
    }
  }
  decls.PushBack(std::move(decl), a);
  return std::nullopt;
}

Value calling_config(std::string_view mode, std::string_view only, Alloc& a) {
  Value fcc(rapidjson::kObjectType);
  add(fcc, "mode", mode, a);
  if (!only.empty()) {
    Value names(rapidjson::kArrayType);
    names.PushBack(str(only, a), a);
    add(fcc, "allowedFunctionNames", std::move(names), a);
  }
  Value cfg(rapidjson::kObjectType);
  add(cfg, "functionCallingConfig", std::move(fcc), a);
  return cfg;
}

// tool_choice ("auto" | "none" | "required" | {"type":"function","function":{"name"}}) or legacy
// function_call ("auto" | "none" | {"name"}) → toolConfig. `legacy` selects the second form.
Failure tool_config(const Value& choice, const std::string& p, bool legacy,
                    const std::vector<std::string>& names, Alloc& a, Value& out) {
  if (choice.IsString()) {
    std::string_view c = sv(choice);
    if (c == "auto") {
      out = calling_config("AUTO", {}, a);
    } else if (c == "none") {
      out = calling_config("NONE", {}, a);
    } else if (c == "required" && !legacy) {
      out = calling_config("ANY", {}, a);
    } else {
      return bad_value(p, legacy ? "supported values are 'auto', 'none' or {\"name\": ...}."
                                 : "supported values are 'auto', 'none', 'required' or "
                                   "{\"type\": \"function\", \"function\": {\"name\": ...}}.");
    }
    return std::nullopt;
  }
  if (!choice.IsObject()) return wrong_type(p, "a string or an object", choice);
  const Value* fn = &choice;
  std::string np = p;
  if (!legacy) {
    const Value* type = field(choice, "type");
    if (!type || !type->IsString() || sv(*type) != "function") {
      return bad_value(join(p, "type"), "only 'function' is supported.");
    }
    fn = field(choice, "function");
    np = join(p, "function");
    if (!fn) return missing_param(np);
  }
  const Value* name = field(*fn, "name");
  if (!name) return missing_param(join(np, "name"));
  if (!name->IsString()) return wrong_type(join(np, "name"), "a string", *name);
  if (std::find(names.begin(), names.end(), sv(*name)) == names.end()) {
    return bad_value(join(np, "name"),
                     "no function named '" + std::string(sv(*name)) + "' is declared.");
  }
  out = calling_config("ANY", sv(*name), a);
  return std::nullopt;
}

}  // namespace

Failure translate_tools(const Value& root, RequestState& st, Value& body, ChatContext& ctx) {
  Alloc& a = st.a;
  Value decls(rapidjson::kArrayType);
  std::vector<std::string> names;
  const Value* tools = field(root, "tools");
  if (tools) {
    if (!tools->IsArray()) return wrong_type("tools", "an array", *tools);
    for (rapidjson::SizeType i = 0; i < tools->Size(); ++i) {
      const Value& t = (*tools)[i];
      std::string p = join("tools", i);
      if (!t.IsObject()) return wrong_type(p, "an object", t);
      const Value* type = field(t, "type");
      if (!type) return missing_param(join(p, "type"));
      if (!type->IsString() || sv(*type) != "function") {
        return bad_value(join(p, "type"), "only 'function' tools are supported.");
      }
      const Value* fn = field(t, "function");
      if (!fn) return missing_param(join(p, "function"));
      if (auto f = declaration(*fn, join(p, "function"), st, decls, names)) return f;
    }
  }
  const Value* functions = field(root, "functions");
  if (functions) {
    if (!functions->IsArray()) return wrong_type("functions", "an array", *functions);
    for (rapidjson::SizeType i = 0; i < functions->Size(); ++i) {
      if (auto f = declaration((*functions)[i], join("functions", i), st, decls, names)) return f;
    }
    ctx.legacy_functions = !tools && !decls.Empty();
  }

  Value config;
  if (const Value* choice = field(root, "tool_choice")) {
    if (auto f = tool_config(*choice, "tool_choice", false, names, a, config)) return f;
  } else if (const Value* fc = field(root, "function_call")) {
    if (auto f = tool_config(*fc, "function_call", true, names, a, config)) return f;
  }
  if (decls.Empty()) return std::nullopt;  // tool_choice without tools: no toolConfig

  Value tool(rapidjson::kObjectType);
  add(tool, "functionDeclarations", std::move(decls), a);
  Value list(rapidjson::kArrayType);
  list.PushBack(std::move(tool), a);
  add(body, "tools", std::move(list), a);
  if (config.IsObject()) add(body, "toolConfig", std::move(config), a);
  return std::nullopt;
}

}  // namespace gemgate::openai::detail
