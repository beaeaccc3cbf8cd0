// OpenAI messages → Gemini contents + systemInstruction.
#include <unordered_map>

#include "filters/openai/translate/detail/request_parts.h"
#include "filters/openai/translate/detail/tool_ids.h"

namespace gemgate::openai::detail {

namespace {

using NameById = std::unordered_map<std::string, std::string>;

// Pass 1: tool call id → function name over the whole history, so a tool message finds the name of
// the call it answers (OpenAI tool messages carry no name). Both the full id and its base (before
// "__thought__") are keys, in case a client trims the suffix. Malformed entries are skipped here;
// pass 2 reports them.
NameById tool_call_names(const Value& messages) {
  NameById names;
  for (const Value& m : messages.GetArray()) {
    const Value* calls = field(m, "tool_calls");
    if (!calls || !calls->IsArray()) continue;
    for (const Value& c : calls->GetArray()) {
      const Value* id = field(c, "id");
      const Value* fn = field(c, "function");
      const Value* name = fn ? field(*fn, "name") : nullptr;
      if (!id || !id->IsString() || !name || !name->IsString()) continue;
      names.emplace(std::string(sv(*id)), std::string(sv(*name)));
      names.emplace(std::string(split_tool_call_id(sv(*id)).base), std::string(sv(*name)));
    }
  }
  return names;
}

// Signature of an assistant tool call, from any of the spellings clients send back.
std::string_view signature_of(const Value& call, std::string_view id) {
  std::string_view from_id = split_tool_call_id(id).signature;
  if (!from_id.empty()) return from_id;
  const Value* extra = field(call, "extra_content");
  const Value* google = extra ? field(*extra, "google") : nullptr;
  const Value* sig = google ? field(*google, "thought_signature") : nullptr;
  if (!sig) {
    const Value* fn = field(call, "function");
    sig = fn ? field(*fn, "thought_signature") : nullptr;
  }
  if (!sig) {
    const Value* psf = field(call, "provider_specific_fields");
    sig = psf ? field(*psf, "thought_signature") : nullptr;
  }
  return sig && sig->IsString() ? sv(*sig) : std::string_view();
}

// A tool call's `arguments` string → the args object ("" → {}).
Failure parse_arguments(const Value* args, const std::string& param, Alloc& a, Value& out) {
  out.SetObject();
  if (!args) return std::nullopt;
  if (!args->IsString()) return wrong_type(param, "a string", *args);
  std::string_view text = sv(*args);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  Document doc;
  std::string err;
  if (!parse_json(text, doc, &err)) return bad_value(param, "not valid JSON: " + err + ".");
  if (!doc.IsObject()) return bad_value(param, "must be a JSON object.");
  out.CopyFrom(doc, a);
  return std::nullopt;
}

// A tool result → functionResponse.response, which must be an object: a JSON object string is
// used as is; other JSON (array, number, ...) and plain text are wrapped as {"output": ...}, the
// key Gemini documents for function output.
void tool_response(const std::string& text, Alloc& a, Value& out) {
  out.SetObject();
  Document doc;
  std::string err;
  bool json = text.find_first_not_of(" \t\r\n") != std::string::npos && parse_json(text, doc, &err);
  if (json && doc.IsObject()) {
    out.CopyFrom(doc, a);
    return;
  }
  Value output;
  if (json) {
    output.CopyFrom(doc, a);
  } else {
    output = str(text, a);
  }
  add(out, "output", std::move(output), a);
}

Value text_part(std::string_view text, Alloc& a) {
  Value part(rapidjson::kObjectType);
  add(part, "text", text, a);
  return part;
}

// Appends a turn, merging it into the previous one when the Gemini role repeats.
void append_turn(Value& contents, std::string_view role, Value parts, Alloc& a) {
  if (!contents.Empty()) {
    Value& last = contents[contents.Size() - 1];
    if (sv(last["role"]) == role) {
      for (Value& p : parts.GetArray()) last["parts"].PushBack(std::move(p), a);
      return;
    }
  }
  Value turn(rapidjson::kObjectType);
  add(turn, "role", role, a);
  add(turn, "parts", std::move(parts), a);
  contents.PushBack(std::move(turn), a);
}

class MessageTranslator {
 public:
  MessageTranslator(const Value& messages, RequestState& st)
      : messages_(messages), st_(st), a_(st.a), names_(tool_call_names(messages)) {}

  Failure run(Value& contents, Value& system_parts) {
    for (rapidjson::SizeType i = 0; i < messages_.Size(); ++i) {
      const Value& m = messages_[i];
      std::string p = join("messages", i);
      if (!m.IsObject()) return wrong_type(p, "an object", m);
      const Value* role = field(m, "role");
      if (!role) return missing_param(join(p, "role"));
      if (!role->IsString()) return wrong_type(join(p, "role"), "a string", *role);
      std::string_view r = sv(*role);
      Failure f;
      if (r == "system" || r == "developer") {
        f = system_message(m, p, system_parts);
      } else if (r == "user") {
        f = user_message(m, p, contents);
      } else if (r == "assistant") {
        f = assistant_message(m, p, contents);
      } else if (r == "tool" || r == "function") {
        f = tool_message(m, p, r == "function", contents);
      } else {
        return bad_value(join(p, "role"),
                         "'" + std::string(r) +
                             "'. Supported values are: 'system', 'developer', 'user', "
                             "'assistant', 'tool' and 'function'.");
      }
      if (f) return f;
    }
    // Gemini refuses empty turns and empty `contents`.
    for (Value& turn : contents.GetArray()) {
      if (turn["parts"].Empty()) turn["parts"].PushBack(text_part(" ", a_), a_);
    }
    if (contents.Empty()) {
      Value parts(rapidjson::kArrayType);
      parts.PushBack(text_part(".", a_), a_);
      append_turn(contents, "user", std::move(parts), a_);
    }
    return std::nullopt;
  }

 private:
  Failure system_message(const Value& m, const std::string& p, Value& system_parts) {
    const Value* content = field(m, "content");
    if (!content) return missing_param(join(p, "content"));
    std::vector<std::string> texts;
    if (auto f = content_texts(*content, join(p, "content"), false, &texts)) return f;
    for (const auto& t : texts) system_parts.PushBack(text_part(t, a_), a_);
    return std::nullopt;
  }

  Failure user_message(const Value& m, const std::string& p, Value& contents) {
    const Value* content = field(m, "content");
    if (!content) return missing_param(join(p, "content"));
    Value parts(rapidjson::kArrayType);
    if (auto f = user_content_parts(*content, join(p, "content"), st_, parts)) return f;
    append_turn(contents, "user", std::move(parts), a_);  // may be empty: filled with " " later
    return std::nullopt;
  }

  Failure assistant_message(const Value& m, const std::string& p, Value& contents) {
    Value parts(rapidjson::kArrayType);
    if (const Value* content = field(m, "content")) {
      std::vector<std::string> texts;
      if (auto f = content_texts(*content, join(p, "content"), true, &texts)) return f;
      for (const auto& t : texts) parts.PushBack(text_part(t, a_), a_);
    }
    size_t first_call = parts.Size();
    const Value* calls = field(m, "tool_calls");
    if (calls) {
      std::string cp = join(p, "tool_calls");
      if (!calls->IsArray()) return wrong_type(cp, "an array", *calls);
      for (rapidjson::SizeType j = 0; j < calls->Size(); ++j) {
        if (auto f = tool_call_part((*calls)[j], join(cp, j), parts)) return f;
      }
    } else if (const Value* legacy = field(m, "function_call")) {
      if (auto f = function_call_part(*legacy, join(p, "function_call"), {}, {}, parts)) return f;
    }
    bool has_calls = parts.Size() > first_call;
    if (!has_calls && !parts.Empty()) {
      // A signature Gemini put on a text part, returned by us as message-level extra_content.
      const Value* extra = field(m, "extra_content");
      const Value* google = extra ? field(*extra, "google") : nullptr;
      const Value* sig = google ? field(*google, "thought_signature") : nullptr;
      if (sig && sig->IsString()) add(parts[parts.Size() - 1], "thoughtSignature", sv(*sig), a_);
    }
    if (has_calls && is_gemini3(st_.upstream_model) &&
        !parts[first_call].HasMember("thoughtSignature")) {
      add(parts[first_call], "thoughtSignature", kSkipSignature, a_);
    }
    if (!parts.Empty()) append_turn(contents, "model", std::move(parts), a_);
    return std::nullopt;
  }

  Failure tool_call_part(const Value& call, const std::string& p, Value& parts) {
    if (!call.IsObject()) return wrong_type(p, "an object", call);
    const Value* id = field(call, "id");
    if (!id) return missing_param(join(p, "id"));
    if (!id->IsString()) return wrong_type(join(p, "id"), "a string", *id);
    if (const Value* type = field(call, "type");
        type && !(type->IsString() && sv(*type) == "function")) {
      return bad_value(join(p, "type"), "only 'function' tool calls are supported.");
    }
    const Value* fn = field(call, "function");
    if (!fn) return missing_param(join(p, "function"));
    return function_call_part(*fn, join(p, "function"), sv(*id), signature_of(call, sv(*id)),
                              parts);
  }

  // {"name","arguments"} → {"functionCall":{"name","args"[,"id"]}[,"thoughtSignature"]}.
  Failure function_call_part(const Value& fn, const std::string& p, std::string_view id,
                             std::string_view signature, Value& parts) {
    if (!fn.IsObject()) return wrong_type(p, "an object", fn);
    const Value* name = field(fn, "name");
    if (!name) return missing_param(join(p, "name"));
    if (!name->IsString() || name->GetStringLength() == 0) {
      return wrong_type(join(p, "name"), "a non-empty string", *name);
    }
    Value args;
    if (auto f = parse_arguments(field(fn, "arguments"), join(p, "arguments"), a_, args)) return f;
    Value call(rapidjson::kObjectType);
    add(call, "name", Value(*name, a_), a_);
    add(call, "args", std::move(args), a_);
    if (st_.options.send_function_call_ids && !id.empty()) {
      add(call, "id", split_tool_call_id(id).base, a_);
    }
    Value part(rapidjson::kObjectType);
    add(part, "functionCall", std::move(call), a_);
    if (!signature.empty()) add(part, "thoughtSignature", signature, a_);
    parts.PushBack(std::move(part), a_);
    return std::nullopt;
  }

  Failure tool_message(const Value& m, const std::string& p, bool legacy, Value& contents) {
    std::string name;
    std::string_view id;
    if (legacy) {  // role "function": {"name","content"}
      const Value* n = field(m, "name");
      if (!n) return missing_param(join(p, "name"));
      if (!n->IsString()) return wrong_type(join(p, "name"), "a string", *n);
      name = sv(*n);
    } else {
      const Value* tid = field(m, "tool_call_id");
      if (!tid) return missing_param(join(p, "tool_call_id"));
      if (!tid->IsString()) return wrong_type(join(p, "tool_call_id"), "a string", *tid);
      id = sv(*tid);
      auto it = names_.find(std::string(id));
      if (it == names_.end()) it = names_.find(std::string(split_tool_call_id(id).base));
      if (it == names_.end()) {
        return bad_value(join(p, "tool_call_id"),
                         "no assistant tool call has the id '" + std::string(id) + "'.");
      }
      name = it->second;
    }
    std::vector<std::string> texts;
    if (const Value* content = field(m, "content")) {
      if (auto f = content_texts(*content, join(p, "content"), false, &texts)) return f;
    }
    std::string text;
    for (const auto& t : texts) text += t;
    Value response;
    tool_response(text, a_, response);
    Value fr(rapidjson::kObjectType);
    add(fr, "name", name, a_);
    add(fr, "response", std::move(response), a_);
    if (st_.options.send_function_call_ids && !id.empty()) {
      add(fr, "id", split_tool_call_id(id).base, a_);
    }
    Value part(rapidjson::kObjectType);
    add(part, "functionResponse", std::move(fr), a_);
    Value parts(rapidjson::kArrayType);
    parts.PushBack(std::move(part), a_);
    append_turn(contents, "user", std::move(parts), a_);
    return std::nullopt;
  }

  const Value& messages_;
  RequestState& st_;
  Alloc& a_;
  NameById names_;
};

}  // namespace

bool is_gemini3(std::string_view upstream_model) {
  return upstream_model.starts_with("gemini-3");
}

Failure translate_messages(const Value& messages, RequestState& st, Value& contents,
                           Value& system_parts) {
  contents.SetArray();
  system_parts.SetArray();
  return MessageTranslator(messages, st).run(contents, system_parts);
}

}  // namespace gemgate::openai::detail
