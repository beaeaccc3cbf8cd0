// Responses request → chat completion body → Gemini request. See responses_request.h.
#include "filters/responses/translate/responses_request.h"

#include <cstdlib>
#include <utility>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/detail/scratch.h"
#include "filters/responses/translate/detail/items.h"

namespace gemgate::responses {

using namespace openai::detail;  // NOLINT: the JSON helpers

namespace {

bool is_web_search(std::string_view type) {
  return type == "web_search" || type == "web_search_preview" ||
         type.starts_with("web_search_preview_") || type.starts_with("web_search_20");
}

// A custom (freeform) tool as a chat function taking one string `input`.
Value custom_tool_function(const Value& t, Alloc& a) {
  Value input(rapidjson::kObjectType);
  add(input, "type", "string", a);
  add(input, "description", "The raw input of the tool, exactly as the tool expects it.", a);
  Value props(rapidjson::kObjectType);
  add(props, "input", std::move(input), a);
  Value required(rapidjson::kArrayType);
  required.PushBack(str("input", a), a);
  Value params(rapidjson::kObjectType);
  add(params, "type", "object", a);
  add(params, "properties", std::move(props), a);
  add(params, "required", std::move(required), a);
  Value fn(rapidjson::kObjectType);
  if (const Value* v = field(t, "name")) add(fn, "name", Value(*v, a), a);
  if (const Value* v = field(t, "description")) add(fn, "description", Value(*v, a), a);
  add(fn, "parameters", std::move(params), a);
  return fn;
}

// tools[] → chat tools; web_search tools set p.web_search, custom tools are listed in p.context.
std::optional<OpenAIError> convert_tools(const Value& tools, Value& chat, PreparedRequest& p,
                                         Alloc& a) {
  bool* web_search = &p.web_search;
  if (!tools.IsArray()) return wrong_type("tools", "an array", tools);
  Value out(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < tools.Size(); ++i) {
    const Value& t = tools[i];
    const std::string param = join("tools", i);
    if (!t.IsObject()) return wrong_type(param, "an object", t);
    const Value* type = field(t, "type");
    if (!type || !type->IsString()) return missing_param(join(param, "type"));
    if (is_web_search(sv(*type))) {
      *web_search = true;
      continue;
    }
    const bool custom = sv(*type) == "custom";
    if (sv(*type) != "function" && !custom) {
      return bad_value(join(param, "type"),
                       "tool type '" + std::string(sv(*type)) +
                           "' is not supported by this gateway: only function, custom and "
                           "web_search tools are translated to Gemini");
    }
    Value fn(rapidjson::kObjectType);
    if (custom) {
      const Value* name = field(t, "name");
      if (!name || !name->IsString()) return missing_param(join(param, "name"));
      p.context.custom_tools.emplace_back(sv(*name));
      fn = custom_tool_function(t, a);
    } else {
      for (const char* key : {"name", "description", "parameters", "strict"}) {
        if (const Value* v = field(t, key)) add(fn, key, Value(*v, a), a);
      }
    }
    Value tool(rapidjson::kObjectType);
    add(tool, "type", "function", a);
    add(tool, "function", std::move(fn), a);
    out.PushBack(std::move(tool), a);
  }
  if (!out.Empty()) add(chat, "tools", std::move(out), a);
  return std::nullopt;
}

// tool_choice: strings pass; {type:function,name} → the chat form; hosted-tool choices → auto.
std::optional<OpenAIError> convert_tool_choice(const Value& choice, Value& chat, Alloc& a) {
  if (choice.IsString()) {
    add(chat, "tool_choice", Value(choice, a), a);
    return std::nullopt;
  }
  if (!choice.IsObject()) return wrong_type("tool_choice", "a string or an object", choice);
  const Value* type = field(choice, "type");
  if (type && type->IsString() && sv(*type) == "function") {
    const Value* name = field(choice, "name");
    if (!name || !name->IsString()) return missing_param("tool_choice.name");
    Value fn(rapidjson::kObjectType);
    add(fn, "name", sv(*name), a);
    Value c(rapidjson::kObjectType);
    add(c, "type", "function", a);
    add(c, "function", std::move(fn), a);
    add(chat, "tool_choice", std::move(c), a);
  }
  return std::nullopt;
}

// text.format → response_format.
std::optional<OpenAIError> convert_text_format(const Value& text, Value& chat, Alloc& a) {
  if (!text.IsObject()) return wrong_type("text", "an object", text);
  const Value* format = field(text, "format");
  if (!format) return std::nullopt;
  if (!format->IsObject()) return wrong_type("text.format", "an object", *format);
  const Value* type = field(*format, "type");
  if (!type || !type->IsString()) return missing_param("text.format.type");
  std::string_view t = sv(*type);
  if (t == "text") return std::nullopt;
  Value rf(rapidjson::kObjectType);
  if (t == "json_object") {
    add(rf, "type", "json_object", a);
  } else if (t == "json_schema") {
    const Value* schema = field(*format, "schema");
    if (!schema) return missing_param("text.format.schema");
    Value js(rapidjson::kObjectType);
    for (const char* key : {"name", "description", "schema", "strict"}) {
      if (const Value* v = field(*format, key)) add(js, key, Value(*v, a), a);
    }
    add(rf, "type", "json_schema", a);
    add(rf, "json_schema", std::move(js), a);
  } else {
    return bad_value("text.format.type", "must be text, json_object or json_schema");
  }
  add(chat, "response_format", std::move(rf), a);
  return std::nullopt;
}

// The request fields the response object echoes, with OpenAI's defaults.
std::string echo_fields(const Value& root) {
  Scratch scratch;
  Value d(rapidjson::kObjectType);
  Alloc& a = scratch.allocator();
  auto copy_or = [&](const char* key, Value fallback) {
    const Value* v = field(root, key);
    add(d, key, v ? Value(*v, a) : std::move(fallback), a);
  };
  copy_or("instructions", Value());
  copy_or("max_output_tokens", Value());
  copy_or("metadata", Value(rapidjson::kObjectType));
  copy_or("parallel_tool_calls", Value(true));
  copy_or("previous_response_id", Value());
  Value reasoning(rapidjson::kObjectType);
  add(reasoning, "effort", Value(), a);
  add(reasoning, "summary", Value(), a);
  copy_or("reasoning", std::move(reasoning));
  copy_or("temperature", Value(1.0));
  Value text(rapidjson::kObjectType);
  Value fmt(rapidjson::kObjectType);
  add(fmt, "type", "text", a);
  add(text, "format", std::move(fmt), a);
  copy_or("text", std::move(text));
  copy_or("tool_choice", str("auto", a));
  copy_or("tools", Value(rapidjson::kArrayType));
  copy_or("top_p", Value(1.0));
  copy_or("truncation", str("disabled", a));
  copy_or("user", Value());
  return write_json(d);
}

bool includes(const Value& root, std::string_view what) {
  const Value* inc = field(root, "include");
  if (!inc || !inc->IsArray()) return false;
  for (const Value& v : inc->GetArray()) {
    if (v.IsString() && sv(v) == what) return true;
  }
  return false;
}

// Sampling, limits and reasoning → the chat body.
std::optional<OpenAIError> convert_config(const Value& root, Value& chat, PreparedRequest& p,
                                          Alloc& a) {
  for (const char* key : {"temperature", "top_p", "top_logprobs"}) {
    if (const Value* v = field(root, key)) add(chat, key, Value(*v, a), a);
  }
  if (const Value* v = field(root, "max_output_tokens")) {
    add(chat, "max_completion_tokens", Value(*v, a), a);
  }
  if (const Value* r = field(root, "reasoning")) {
    if (!r->IsObject()) return wrong_type("reasoning", "an object", *r);
    if (const Value* effort = field(*r, "effort")) {
      add(chat, "reasoning_effort", Value(*effort, a), a);
    }
    const Value* summary = field(*r, "summary");
    if (!summary) summary = field(*r, "generate_summary");
    p.context.include_summary = summary && summary->IsString() && sv(*summary) != "none";
  }
  if (const Value* tools = field(root, "tools")) {
    if (auto e = convert_tools(*tools, chat, p, a)) return e;
  }
  if (const Value* choice = field(root, "tool_choice")) {
    if (auto e = convert_tool_choice(*choice, chat, a)) return e;
  }
  if (const Value* text = field(root, "text")) {
    if (auto e = convert_text_format(*text, chat, a)) return e;
  }
  if (p.context.include_summary) {
    Value tc(rapidjson::kObjectType);
    add(tc, "include_thoughts", Value(true), a);
    Value google(rapidjson::kObjectType);
    add(google, "thinking_config", std::move(tc), a);
    add(chat, "google", std::move(google), a);
  }
  return std::nullopt;
}

std::optional<OpenAIError> refuse_unsupported(const Value& root) {
  if (const Value* bg = field(root, "background"); bg && bg->IsBool() && bg->GetBool()) {
    return bad_value("background", "background responses are not supported by this gateway");
  }
  if (field(root, "conversation")) {
    return bad_value("conversation",
                     "conversations are not supported by this gateway: use "
                     "previous_response_id");
  }
  return std::nullopt;
}

// Rewrites a chat translator error's param ("messages[3].content") into the Responses field
// the message came from ("input[2].content").
OpenAIError remap_param(OpenAIError e, const std::vector<std::string>& params) {
  if (!e.param || !e.param->starts_with("messages[")) return e;
  size_t close = e.param->find(']');
  if (close == std::string::npos) return e;
  size_t k = std::strtoul(e.param->c_str() + 9, nullptr, 10);
  if (k >= params.size()) return e;
  std::string rest = e.param->substr(close + 1);
  e.param = params[k] + rest;
  return e;
}

}  // namespace

Expected<RequestHead> read_request_head(std::string_view body) {
  Scratch scratch;
  ScratchDocument& doc = scratch.doc();
  std::string why;
  if (!parse_json(body, doc, &why)) {
    return OpenAIError::invalid("the request body is not valid JSON: " + why);
  }
  if (!doc.IsObject()) return OpenAIError::invalid("the request body must be a JSON object");
  RequestHead h;
  const Value* model = field(doc, "model");
  if (!model) return missing_param("model");
  if (!model->IsString()) return wrong_type("model", "a string", *model);
  h.model = sv(*model);
  if (const Value* prev = field(doc, "previous_response_id")) {
    if (!prev->IsString()) return wrong_type("previous_response_id", "a string", *prev);
    h.previous_response_id = sv(*prev);
  }
  if (const Value* store = field(doc, "store")) {
    if (!store->IsBool()) return wrong_type("store", "a boolean", *store);
    h.store = store->GetBool();
  }
  if (const Value* stream = field(doc, "stream")) {
    if (!stream->IsBool()) return wrong_type("stream", "a boolean", *stream);
    h.stream = stream->GetBool();
  }
  return h;
}

Expected<PreparedRequest> prepare_request(std::string_view body, std::string_view prior_items_json,
                                          const ReasoningSeal& seal, std::string_view id_seed) {
  auto head = read_request_head(body);
  if (!head) return head.error();
  Document doc;
  std::string why;
  parse_json(body, doc, &why);  // valid: read_request_head parsed it
  if (auto e = refuse_unsupported(doc)) return *e;

  PreparedRequest p;
  p.context.model = head->model;
  p.context.stream = head->stream;
  p.context.store = head->store;
  p.context.previous_response_id = head->previous_response_id;
  p.context.include_encrypted = includes(doc, "reasoning.encrypted_content");
  p.context.echo_json = echo_fields(doc);

  Document chat;
  chat.SetObject();
  Alloc& a = chat.GetAllocator();
  add(chat, "model", head->model, a);
  if (head->stream) add(chat, "stream", Value(true), a);
  if (auto e = convert_config(doc, chat, p, a)) return *e;

  Value messages(rapidjson::kArrayType);
  if (const Value* instr = field(doc, "instructions")) {
    if (!instr->IsString()) return wrong_type("instructions", "a string", *instr);
    Value m(rapidjson::kObjectType);
    add(m, "role", "system", a);
    add(m, "content", sv(*instr), a);
    messages.PushBack(std::move(m), a);
    p.message_params.push_back("instructions");
  }
  detail::ItemsToMessages conv(seal, a, messages, p.message_params);
  if (!prior_items_json.empty()) {
    Document prior;
    if (!parse_json(prior_items_json, prior, &why) || !prior.IsArray()) {
      return OpenAIError::bad_upstream("the stored conversation is unreadable");
    }
    if (auto e = conv.add_items(prior, "previous_response_id")) return *e;
  }
  Document input_items;
  const Value* input = field(doc, "input");
  if (!input) return missing_param("input");
  if (auto e = detail::normalize_input(*input, id_seed, input_items)) return *e;
  if (auto e = conv.add_items(input_items, "input")) return *e;
  if (messages.Empty()) return bad_value("input", "must hold at least one item");
  add(chat, "messages", std::move(messages), a);
  p.input_items_json = write_json(input_items);
  p.chat_body = write_json(chat);

  auto urls = openai::list_remote_media(p.chat_body);
  if (!urls) return urls.error();
  p.media_urls = std::move(*urls);
  return p;
}

Expected<GeminiCall> finish_request(const PreparedRequest& prepared, const MediaMap& media) {
  openai::TranslateOptions options;
  options.include_reasoning = prepared.context.include_summary;
  auto chat = openai::translate_chat_request(prepared.chat_body, media, options);
  if (!chat) return remap_param(chat.error(), prepared.message_params);
  GeminiCall call;
  call.path = std::move(chat->path);
  call.context = prepared.context;
  call.context.upstream_model = chat->context.upstream_model;
  if (!prepared.web_search) {
    call.body = std::move(chat->body);
    return call;
  }
  Document gemini;
  std::string why;
  if (!parse_json(chat->body, gemini, &why) || !gemini.IsObject()) {
    return OpenAIError::bad_upstream("internal: the translated request is not JSON");
  }
  Alloc& a = gemini.GetAllocator();
  Value* tools = member(gemini, "tools");
  if (!tools || !tools->IsArray()) {
    if (tools) gemini.RemoveMember("tools");
    add(gemini, "tools", Value(rapidjson::kArrayType), a);
    tools = member(gemini, "tools");
  }
  Value search(rapidjson::kObjectType);
  add(search, "googleSearch", Value(rapidjson::kObjectType), a);
  tools->PushBack(std::move(search), a);
  call.body = write_json(gemini);
  return call;
}

}  // namespace gemgate::responses
