// Internal: Responses items → chat messages. See items.h.
#include "filters/responses/translate/detail/items.h"

#include <utility>

#include "filters/openai/translate/detail/media.h"

namespace gemgate::responses::detail {

using namespace openai::detail;  // NOLINT: the JSON helpers

namespace {

// A Gemini Files API file named by a file_id / file_url: "files/abc" or its full URI.
bool is_gemini_file(const Value& v) {
  if (!v.IsString()) return false;
  std::string_view s = sv(v);
  if (is_gemini_file_uri(s)) return true;
  return s.starts_with("files/") && s.size() > 6 &&
         s.find_first_of("/?#", 6) == std::string_view::npos;
}

Failure not_a_gemini_file(const std::string& param) {
  return bad_value(param,
                   "Gemini cannot read OpenAI file ids; upload the file with the Gemini Files API "
                   "and pass its name ('files/...') or URI");
}

// A content part of a message item → the chat part (user side) or nullopt-with-error.
Failure convert_part(const Value& part, const std::string& param, Value& out, Alloc& a) {
  if (!part.IsObject()) return wrong_type(param, "an object", part);
  const Value* type = field(part, "type");
  if (!type || !type->IsString()) return missing_param(join(param, "type"));
  std::string_view t = sv(*type);
  Value chat(rapidjson::kObjectType);
  if (t == "input_text" || t == "output_text" || t == "text" || t == "summary_text") {
    const Value* text = field(part, "text");
    if (!text || !text->IsString()) return missing_param(join(param, "text"));
    add(chat, "type", "text", a);
    add(chat, "text", sv(*text), a);
  } else if (t == "input_image" && field(part, "file_id")) {
    // A Gemini Files API name or URI: the chat translator sends it as fileData (or refuses it).
    const Value* id = field(part, "file_id");
    if (!is_gemini_file(*id)) return not_a_gemini_file(join(param, "file_id"));
    Value file(rapidjson::kObjectType);
    add(file, "file_id", sv(*id), a);
    add(chat, "type", "file", a);
    add(chat, "file", std::move(file), a);
  } else if (t == "input_image") {
    const Value* url = field(part, "image_url");
    if (!url || !url->IsString()) return missing_param(join(param, "image_url"));
    Value img(rapidjson::kObjectType);
    add(img, "url", sv(*url), a);
    add(chat, "type", "image_url", a);
    add(chat, "image_url", std::move(img), a);
  } else if (t == "input_file") {
    const Value* data = field(part, "file_data");
    // file_id / file_url of a Gemini Files API file go by reference (the chat translator makes
    // them fileData; anything else is refused there with a clear message).
    const Value* ref = field(part, "file_id");
    if (!ref) ref = field(part, "file_url");
    if ((!data || !data->IsString()) && !ref) {
      return bad_value(
          join(param, "file_data"),
          "send the file inline (file_data) or as a Gemini file (file_id 'files/...')");
    }
    if ((!data || !data->IsString()) && !is_gemini_file(*ref)) {
      return not_a_gemini_file(join(param, field(part, "file_id") ? "file_id" : "file_url"));
    }
    Value file(rapidjson::kObjectType);
    if (data && data->IsString()) {
      add(file, "file_data", sv(*data), a);
    } else {
      add(file, "file_id", sv(*ref), a);
    }
    if (const Value* name = field(part, "filename"); name && name->IsString()) {
      add(file, "filename", sv(*name), a);
    }
    add(chat, "type", "file", a);
    add(chat, "file", std::move(file), a);
  } else if (t == "refusal") {
    return std::nullopt;  // assistant history: nothing to send back
  } else {
    return bad_value(join(param, "type"), "unknown content part type '" + std::string(t) + "'");
  }
  out.PushBack(std::move(chat), a);
  return std::nullopt;
}

// A message item's content (string or parts) → chat content.
Failure convert_content(const Value& content, const std::string& param, Value& out, Alloc& a) {
  if (content.IsString()) {
    out = Value(content, a);
    return std::nullopt;
  }
  if (!content.IsArray()) return wrong_type(param, "a string or an array", content);
  out.SetArray();
  for (rapidjson::SizeType i = 0; i < content.Size(); ++i) {
    if (auto e = convert_part(content[i], join(param, i), out, a)) return e;
  }
  return std::nullopt;
}

std::string_view item_type(const Value& item) {
  const Value* type = field(item, "type");
  if (type && type->IsString()) return sv(*type);
  return field(item, "role") ? "message" : "";
}

std::string_view id_prefix(std::string_view type) {
  if (type == "function_call") return "fc";
  if (type == "function_call_output") return "fco";
  if (type == "reasoning") return "rs";
  return "msg";
}

}  // namespace

std::string signatures_payload(const std::map<std::string, std::string>& by_call_id) {
  Document d;
  d.SetObject();
  Value sigs(rapidjson::kObjectType);
  for (const auto& [id, sig] : by_call_id) add(sigs, id, sig, d.GetAllocator());
  add(d, "v", Value(1), d.GetAllocator());
  add(d, "sigs", std::move(sigs), d.GetAllocator());
  return write_json(d);
}

std::map<std::string, std::string> read_signatures_payload(std::string_view payload) {
  std::map<std::string, std::string> out;
  Document d;
  std::string why;
  if (!parse_json(payload, d, &why) || !d.IsObject()) return out;
  const Value* sigs = field(d, "sigs");
  if (!sigs || !sigs->IsObject()) return out;
  for (const auto& m : sigs->GetObject()) {
    if (m.value.IsString()) out[std::string(sv(m.name))] = std::string(sv(m.value));
  }
  return out;
}

Failure normalize_input(const Value& input, std::string_view id_seed, Document& out) {
  out.SetArray();
  Alloc& a = out.GetAllocator();
  if (input.IsString()) {
    Value part(rapidjson::kObjectType);
    add(part, "type", "input_text", a);
    add(part, "text", sv(input), a);
    Value content(rapidjson::kArrayType);
    content.PushBack(std::move(part), a);
    Value item(rapidjson::kObjectType);
    add(item, "type", "message", a);
    add(item, "id", "msg_" + std::string(id_seed) + "_in0", a);
    add(item, "role", "user", a);
    add(item, "content", std::move(content), a);
    out.PushBack(std::move(item), a);
    return std::nullopt;
  }
  if (!input.IsArray()) return wrong_type("input", "a string or an array", input);
  for (rapidjson::SizeType i = 0; i < input.Size(); ++i) {
    const Value& item = input[i];
    const std::string param = join("input", i);
    if (!item.IsObject()) return wrong_type(param, "an object", item);
    std::string_view type = item_type(item);
    if (type.empty()) return missing_param(join(param, "type"));
    Value copy(item, a);
    if (!field(item, "type")) add(copy, "type", type, a);
    if (!field(item, "id")) {
      add(copy, "id",
          std::string(id_prefix(type)) + "_" + std::string(id_seed) + "_in" + std::to_string(i), a);
    }
    out.PushBack(std::move(copy), a);
  }
  return std::nullopt;
}

void ItemsToMessages::collect_signatures(const Value& item) {
  const Value* enc = field(item, "encrypted_content");
  if (!enc || !enc->IsString() || !seal_.open) return;
  std::optional<std::string> payload = seal_.open(sv(*enc));
  if (!payload) return;  // not ours (forged or from another seal key): ignored, see the header
  for (auto& [id, sig] : read_signatures_payload(*payload)) signatures_[id] = std::move(sig);
}

void ItemsToMessages::push(Value message, const std::string& param) {
  messages_.PushBack(std::move(message), a_);
  params_.push_back(param);
}

Failure ItemsToMessages::add_items(const Value& items, std::string_view base) {
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    if (items[i].IsObject() && item_type(items[i]) == "reasoning") collect_signatures(items[i]);
  }
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    const Value& item = items[i];
    const std::string param = base == "input" ? join(base, i) : std::string(base);
    if (!item.IsObject()) return wrong_type(param, "an object", item);
    std::string_view type = item_type(item);
    Failure f;
    if (type == "message") {
      f = add_message(item, param);
    } else if (type == "function_call" || type == "custom_tool_call") {
      f = add_function_call(item, param);
    } else if (type == "function_call_output" || type == "custom_tool_call_output") {
      f = add_function_output(item, param);
    } else if (type == "reasoning" || type == "web_search_call") {
      continue;  // signatures collected above; searches are Gemini's own business
    } else if (type == "item_reference") {
      f = bad_value(param, "item references are not supported: send the items themselves");
    } else {
      f = bad_value(join(param, "type"), "unknown item type '" + std::string(type) + "'");
    }
    if (f) return f;
  }
  return std::nullopt;
}

Failure ItemsToMessages::add_message(const Value& item, const std::string& param) {
  const Value* role = field(item, "role");
  if (!role || !role->IsString()) return missing_param(join(param, "role"));
  std::string_view r = sv(*role);
  if (r != "user" && r != "assistant" && r != "system" && r != "developer") {
    return bad_value(join(param, "role"), "must be user, assistant, system or developer");
  }
  const Value* content = field(item, "content");
  if (!content) return missing_param(join(param, "content"));
  Value chat_content;
  if (auto e = convert_content(*content, join(param, "content"), chat_content, a_)) return e;
  Value m(rapidjson::kObjectType);
  add(m, "role", r, a_);
  add(m, "content", std::move(chat_content), a_);
  push(std::move(m), param);
  open_assistant_ = r == "assistant";
  return std::nullopt;
}

Failure ItemsToMessages::add_function_call(const Value& item, const std::string& param) {
  const Value* call_id = field(item, "call_id");
  const Value* name = field(item, "name");
  const Value* args = field(item, "arguments");
  if (!call_id || !call_id->IsString()) return missing_param(join(param, "call_id"));
  if (!name || !name->IsString()) return missing_param(join(param, "name"));
  if (args && !args->IsString()) return wrong_type(join(param, "arguments"), "a string", *args);
  std::string custom_args;
  if (const Value* input = field(item, "input"); input && item_type(item) == "custom_tool_call") {
    if (!input->IsString()) return wrong_type(join(param, "input"), "a string", *input);
    Document d;
    d.SetObject();
    add(d, "input", sv(*input), d.GetAllocator());
    custom_args = write_json(d);  // a custom tool call: its freeform input as the one argument
  }
  Value fn(rapidjson::kObjectType);
  add(fn, "name", sv(*name), a_);
  add(fn, "arguments",
      !custom_args.empty() ? std::string_view(custom_args)
      : args               ? sv(*args)
                           : std::string_view("{}"),
      a_);
  Value call(rapidjson::kObjectType);
  add(call, "id", sv(*call_id), a_);
  add(call, "type", "function", a_);
  add(call, "function", std::move(fn), a_);
  if (auto it = signatures_.find(std::string(sv(*call_id))); it != signatures_.end()) {
    Value google(rapidjson::kObjectType);
    add(google, "thought_signature", it->second, a_);
    Value extra(rapidjson::kObjectType);
    add(extra, "google", std::move(google), a_);
    add(call, "extra_content", std::move(extra), a_);
  }
  if (!open_assistant_) {
    Value m(rapidjson::kObjectType);
    add(m, "role", "assistant", a_);
    add(m, "content", Value(), a_);
    push(std::move(m), param);
    open_assistant_ = true;
  }
  Value& last = messages_[messages_.Size() - 1];
  Value* calls = member(last, "tool_calls");
  if (!calls) {
    add(last, "tool_calls", Value(rapidjson::kArrayType), a_);
    calls = member(last, "tool_calls");
  }
  calls->PushBack(std::move(call), a_);
  return std::nullopt;
}

Failure ItemsToMessages::add_function_output(const Value& item, const std::string& param) {
  const Value* call_id = field(item, "call_id");
  const Value* output = field(item, "output");
  if (!call_id || !call_id->IsString()) return missing_param(join(param, "call_id"));
  if (!output) return missing_param(join(param, "output"));
  Value content;
  if (output->IsString()) {
    content = Value(*output, a_);
  } else if (output->IsArray()) {
    content.SetArray();
    for (rapidjson::SizeType i = 0; i < output->Size(); ++i) {
      const std::string p = join(join(param, "output"), i);
      const Value* type = (*output)[i].IsObject() ? field((*output)[i], "type") : nullptr;
      if (!type || !type->IsString() || (sv(*type) != "input_text" && sv(*type) != "output_text")) {
        return bad_value(p, "only text parts are supported in a function call output");
      }
      if (auto e = convert_part((*output)[i], p, content, a_)) return e;
    }
  } else {
    return wrong_type(join(param, "output"), "a string or an array", *output);
  }
  Value m(rapidjson::kObjectType);
  add(m, "role", "tool", a_);
  add(m, "tool_call_id", sv(*call_id), a_);
  add(m, "content", std::move(content), a_);
  push(std::move(m), param);
  open_assistant_ = false;
  return std::nullopt;
}

}  // namespace gemgate::responses::detail
