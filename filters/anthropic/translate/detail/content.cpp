#include "filters/anthropic/translate/detail/content.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "filters/openai/translate/detail/media.h"
#include "filters/openai/translate/detail/tool_ids.h"

namespace gemgate::anthropic::detail {

namespace {

using openai::detail::add;
using openai::detail::field;
using openai::detail::str;
using openai::detail::sv;
namespace media = openai::detail;

// Where a Files API name ("files/abc") lives as a URI, for fileData.
constexpr std::string_view kGeminiFilesBase = "https://generativelanguage.googleapis.com/v1beta/";

AnthropicError bad(const std::string& where, const std::string& what) {
  return AnthropicError::invalid(where + ": " + what);
}

std::string idx(std::string_view base, size_t i) {
  return std::string(base) + "." + std::to_string(i);
}

// A thinking block's signature waiting for the part it belongs to (see messages_request.h).
struct Pending {
  std::string signature;
};

// Builds one Gemini turn (role + parts) from one Anthropic message.
class TurnBuilder {
 public:
  TurnBuilder(Alloc& a, const MediaMap& media,
              const std::unordered_map<std::string, std::string>& names)
      : a_(a), media_(media), names_(names) {}

  std::optional<AnthropicError> message(const Value& m, const std::string& where, Value* parts,
                                        bool assistant) {
    parts_ = parts;
    pending_.reset();
    const Value* content = field(m, "content");
    if (!content) return bad(where + ".content", "Field required");
    if (content->IsString()) {
      text(sv(*content), {});
      return std::nullopt;
    }
    if (!content->IsArray()) return bad(where + ".content", "must be a string or a list of blocks");
    for (rapidjson::SizeType i = 0; i < content->Size(); ++i) {
      const Value& b = (*content)[i];
      std::string w = idx(where + ".content", i);
      if (!b.IsObject()) return bad(w, "a content block must be an object");
      const Value* type = field(b, "type");
      if (!type || !type->IsString()) return bad(w + ".type", "Field required");
      std::string_view t = sv(*type);
      std::optional<AnthropicError> e;
      if (t == "text") {
        const Value* tx = field(b, "text");
        if (!tx || !tx->IsString()) return bad(w + ".text", "Field required");
        text(sv(*tx), {});
      } else if (t == "image" || t == "document") {
        if (assistant) return bad(w, "an assistant message cannot hold " + std::string(t));
        e = source(b, w, t == "document");
      } else if (t == "tool_use" && assistant) {
        e = tool_use(b, w);
      } else if (t == "tool_result" && !assistant) {
        e = tool_result(b, w);
      } else if ((t == "thinking" || t == "redacted_thinking") && assistant) {
        e = thinking(b, w, t == "redacted_thinking");
      } else {
        return bad(w + ".type", "block type '" + std::string(t) + "' is not supported in " +
                                    (assistant ? "assistant" : "user") + " messages here");
      }
      if (e) return e;
    }
    flush_pending(true);
    return std::nullopt;
  }

 private:
  // A part gets the waiting signature when it has none of its own; otherwise the waiting one
  // goes first as a part of its own.
  void push(Value part, std::string_view own_signature) {
    std::string sig(own_signature);
    if (pending_) {
      if (sig.empty()) {
        sig = pending_->signature;
      } else {
        flush_pending(false);
      }
      pending_.reset();
    }
    if (!sig.empty()) add(part, "thoughtSignature", sig, a_);
    parts_->PushBack(std::move(part), a_);
  }

  // A signature with no part after it: an empty text part carrying it (what Gemini sent).
  void flush_pending(bool at_end) {
    if (!pending_) return;
    Value p(rapidjson::kObjectType);
    add(p, "text", "", a_);
    add(p, "thoughtSignature", pending_->signature, a_);
    parts_->PushBack(std::move(p), a_);
    if (at_end) pending_.reset();
  }

  void text(std::string_view t, std::string_view sig) {
    if (t.empty() && sig.empty()) return;
    Value p(rapidjson::kObjectType);
    add(p, "text", t, a_);
    push(std::move(p), sig);
  }

  std::optional<AnthropicError> inline_data(std::string mime, std::string_view b64) {
    Value d(rapidjson::kObjectType);
    add(d, "mimeType", mime, a_);
    add(d, "data", b64, a_);
    Value p(rapidjson::kObjectType);
    add(p, "inlineData", std::move(d), a_);
    push(std::move(p), {});
    return std::nullopt;
  }

  // A Gemini Files API file, by reference (fileData); its MIME type from the source's
  // media_type when given.
  std::optional<AnthropicError> file_data(std::string_view uri, const Value& src) {
    Value d(rapidjson::kObjectType);
    if (const Value* mt = field(src, "media_type"); mt && mt->IsString()) {
      add(d, "mimeType", media::normalize_mime(sv(*mt)), a_);
    }
    add(d, "fileUri", uri, a_);
    Value p(rapidjson::kObjectType);
    add(p, "fileData", std::move(d), a_);
    push(std::move(p), {});
    return std::nullopt;
  }

  std::optional<AnthropicError> source(const Value& b, const std::string& w, bool document) {
    const Value* src = field(b, "source");
    if (!src || !src->IsObject()) return bad(w + ".source", "Field required");
    const Value* type = field(*src, "type");
    std::string_view t = type && type->IsString() ? sv(*type) : std::string_view();
    if (t == "base64") {
      const Value* mt = field(*src, "media_type");
      const Value* data = field(*src, "data");
      if (!mt || !mt->IsString()) return bad(w + ".source.media_type", "Field required");
      if (!data || !data->IsString() || !media::looks_like_base64(sv(*data)))
        return bad(w + ".source.data", "must be base64 data");
      return inline_data(media::normalize_mime(sv(*mt)), sv(*data));
    }
    if (t == "file") {
      const Value* id = field(*src, "file_id");
      if (!id || !id->IsString()) return bad(w + ".source.file_id", "Field required");
      std::string_view v = sv(*id);
      if (media::is_gemini_file_uri(v)) return file_data(v, *src);
      if (v.starts_with("files/") && v.size() > 6 &&
          v.find_first_of("/?#", 6) == std::string_view::npos) {
        return file_data(std::string(kGeminiFilesBase) + std::string(v), *src);
      }
      return bad(w + ".source.file_id",
                 "Gemini cannot read Anthropic file ids; upload the file with the Gemini Files "
                 "API and pass its name ('files/...') or URI");
    }
    if (t == "url") {
      const Value* url = field(*src, "url");
      if (!url || !url->IsString()) return bad(w + ".source.url", "Field required");
      std::string u(sv(*url));
      if (auto d = media::parse_data_uri(u)) return inline_data(d->mime, d->payload);
      if (media::is_gemini_file_uri(u)) return file_data(u, *src);  // Gemini reads it itself
      auto it = media_.find(u);
      if (it == media_.end()) return bad(w + ".source.url", "the URL could not be downloaded");
      std::string mime(media::sniff_mime(it->second.bytes));
      if (mime.empty()) mime = media::normalize_mime(it->second.mime_type);
      if (mime.empty() || mime == "application/octet-stream")
        mime = std::string(media::mime_from_extension(u));
      if (mime.empty()) return bad(w + ".source.url", "the downloaded file has no known type");
      return inline_data(mime, media::base64_encode(it->second.bytes));
    }
    if (document && t == "text") {
      const Value* data = field(*src, "data");
      if (!data || !data->IsString()) return bad(w + ".source.data", "Field required");
      text(sv(*data), {});
      return std::nullopt;
    }
    if (document && t == "content") {
      const Value* c = field(*src, "content");
      if (c && c->IsString()) {
        text(sv(*c), {});
        return std::nullopt;
      }
      if (!c || !c->IsArray()) return bad(w + ".source.content", "Field required");
      for (const Value& x : c->GetArray()) {
        const Value* tx = x.IsObject() ? field(x, "text") : nullptr;
        if (tx && tx->IsString()) text(sv(*tx), {});
      }
      return std::nullopt;
    }
    return bad(w + ".source.type", "source type '" + std::string(t) + "' is not supported");
  }

  std::optional<AnthropicError> tool_use(const Value& b, const std::string& w) {
    const Value* id = field(b, "id");
    const Value* name = field(b, "name");
    const Value* input = field(b, "input");
    if (!id || !id->IsString()) return bad(w + ".id", "Field required");
    if (!name || !name->IsString() || name->GetStringLength() == 0)
      return bad(w + ".name", "Field required");
    if (input && !input->IsObject()) return bad(w + ".input", "must be an object");
    ToolUseId split = split_tool_use_id(sv(*id));
    Value call(rapidjson::kObjectType);
    add(call, "name", sv(*name), a_);
    add(call, "args", input ? Value(*input, a_) : Value(rapidjson::kObjectType), a_);
    Value p(rapidjson::kObjectType);
    add(p, "functionCall", std::move(call), a_);
    push(std::move(p), split.signature);
    return std::nullopt;
  }

  std::optional<AnthropicError> tool_result(const Value& b, const std::string& w) {
    const Value* id = field(b, "tool_use_id");
    if (!id || !id->IsString()) return bad(w + ".tool_use_id", "Field required");
    auto name = names_.find(std::string(sv(*id)));
    if (name == names_.end())
      return bad(w + ".tool_use_id", "no tool_use block with this id precedes the result");
    const Value* is_error = field(b, "is_error");
    bool error = is_error && is_error->IsBool() && is_error->GetBool();
    std::string joined;
    std::vector<const Value*> images;
    if (const Value* c = field(b, "content")) {
      if (c->IsString()) {
        joined = sv(*c);
      } else if (c->IsArray()) {
        for (rapidjson::SizeType i = 0; i < c->Size(); ++i) {
          const Value& x = (*c)[i];
          const Value* type = x.IsObject() ? field(x, "type") : nullptr;
          std::string_view t = type && type->IsString() ? sv(*type) : std::string_view();
          if (t == "text") {
            const Value* tx = field(x, "text");
            if (!tx || !tx->IsString())
              return bad(idx(w + ".content", i) + ".text", "Field required");
            if (!joined.empty()) joined += "\n";
            joined += sv(*tx);
          } else if (t == "image" || t == "document") {
            images.push_back(&x);
          } else {
            return bad(idx(w + ".content", i) + ".type", "must be text, image or document");
          }
        }
      } else {
        return bad(w + ".content", "must be a string or a list of blocks");
      }
    }
    Value response(rapidjson::kObjectType);
    add(response, error ? "error" : "content", joined, a_);
    Value fr(rapidjson::kObjectType);
    add(fr, "name", name->second, a_);
    add(fr, "response", std::move(response), a_);
    Value p(rapidjson::kObjectType);
    add(p, "functionResponse", std::move(fr), a_);
    push(std::move(p), {});
    for (size_t i = 0; i < images.size(); ++i) {
      const Value& x = *images[i];
      bool doc = sv(x["type"]) == "document";
      if (auto e = source(x, w + ".content", doc)) return e;
    }
    return std::nullopt;
  }

  std::optional<AnthropicError> thinking(const Value& b, const std::string& w, bool redacted) {
    const Value* sig = field(b, redacted ? "data" : "signature");
    std::string_view signature = sig && sig->IsString() ? sv(*sig) : std::string_view();
    const Value* th = redacted ? nullptr : field(b, "thinking");
    std::string_view thought = th && th->IsString() ? sv(*th) : std::string_view();
    if (signature.empty()) return std::nullopt;  // thought text alone: Gemini needs none back
    if (!thought.empty()) {
      // The signature was on the thought part itself.
      Value p(rapidjson::kObjectType);
      add(p, "text", thought, a_);
      add(p, "thought", Value(true), a_);
      push(std::move(p), signature);
      return std::nullopt;
    }
    if (pending_) flush_pending(true);
    pending_ = Pending{std::string(signature)};
    return std::nullopt;
  }

  Alloc& a_;
  const MediaMap& media_;
  const std::unordered_map<std::string, std::string>& names_;
  Value* parts_ = nullptr;
  std::optional<Pending> pending_;
};

// tool_use id → tool name, over every assistant message.
std::unordered_map<std::string, std::string> tool_names(const Value& messages) {
  std::unordered_map<std::string, std::string> names;
  for (const Value& m : messages.GetArray()) {
    const Value* c = m.IsObject() ? field(m, "content") : nullptr;
    if (!c || !c->IsArray()) continue;
    for (const Value& b : c->GetArray()) {
      if (!b.IsObject()) continue;
      const Value* t = field(b, "type");
      const Value* id = field(b, "id");
      const Value* name = field(b, "name");
      if (t && t->IsString() && sv(*t) == "tool_use" && id && id->IsString() && name &&
          name->IsString())
        names[std::string(sv(*id))] = std::string(sv(*name));
    }
  }
  return names;
}

// Gemini 3: a model turn with function calls but no signature at all gets Gemini's documented
// stand-in on its first call (history from another model).
void add_skip_signature(Value& turn, Alloc& a) {
  Value& parts = turn["parts"];
  Value* first_call = nullptr;
  for (auto& p : parts.GetArray()) {
    if (p.HasMember("thoughtSignature")) return;
    if (!first_call && p.HasMember("functionCall")) first_call = &p;
  }
  if (first_call) add(*first_call, "thoughtSignature", openai::detail::kSkipSignature, a);
}

}  // namespace

std::string make_tool_use_id(std::string_view base, std::string_view signature) {
  std::string out(base);
  if (signature.empty()) return out;
  out += kThoughtSeparator;
  for (char c : signature) {
    if (c == '=') break;
    out += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

ToolUseId split_tool_use_id(std::string_view id) {
  size_t p = id.find(kThoughtSeparator);
  if (p == std::string_view::npos) return {std::string(id), {}};
  ToolUseId out{std::string(id.substr(0, p)), {}};
  for (char c : id.substr(p + kThoughtSeparator.size())) {
    out.signature += c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (out.signature.size() % 4 != 0) out.signature += '=';
  return out;
}

std::string generated_tool_use_id(std::string_view message_id, size_t k) {
  std::string call = openai::detail::generated_call_id(message_id, k);  // "call_<hex>_<k>"
  return "toolu_" + call.substr(5);
}

std::optional<AnthropicError> translate_system(const Value& system, Alloc& a, Value* out) {
  Value parts(rapidjson::kArrayType);
  auto push = [&](std::string_view t) {
    if (t.empty()) return;
    Value p(rapidjson::kObjectType);
    add(p, "text", t, a);
    parts.PushBack(std::move(p), a);
  };
  if (system.IsString()) {
    push(sv(system));
  } else if (system.IsArray()) {
    for (rapidjson::SizeType i = 0; i < system.Size(); ++i) {
      const Value& b = system[i];
      const Value* t = b.IsObject() ? field(b, "type") : nullptr;
      const Value* tx = b.IsObject() ? field(b, "text") : nullptr;
      if (!t || !t->IsString() || sv(*t) != "text" || !tx || !tx->IsString())
        return bad(idx("system", i), "system blocks must be text blocks");
      push(sv(*tx));
    }
  } else {
    return bad("system", "must be a string or a list of text blocks");
  }
  if (parts.Empty()) {
    *out = Value();
    return std::nullopt;
  }
  Value si(rapidjson::kObjectType);
  add(si, "parts", std::move(parts), a);
  *out = std::move(si);
  return std::nullopt;
}

std::optional<AnthropicError> translate_messages(const Value& messages, const MediaMap& media,
                                                 bool gemini3, Alloc& a, Value* out) {
  if (!messages.IsArray()) return bad("messages", "must be a list");
  if (messages.Empty()) return bad("messages", "at least one message is required");
  auto names = tool_names(messages);
  TurnBuilder builder(a, media, names);
  Value contents(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < messages.Size(); ++i) {
    const Value& m = messages[i];
    std::string w = idx("messages", i);
    if (!m.IsObject()) return bad(w, "a message must be an object");
    const Value* role = field(m, "role");
    if (!role || !role->IsString()) return bad(w + ".role", "Field required");
    std::string_view r = sv(*role);
    if (r != "user" && r != "assistant") return bad(w + ".role", "must be 'user' or 'assistant'");
    bool assistant = r == "assistant";
    Value parts(rapidjson::kArrayType);
    if (auto e = builder.message(m, w, &parts, assistant)) return e;
    if (parts.Empty()) continue;
    std::string_view gemini_role = assistant ? "model" : "user";
    // Consecutive turns of one role merge: Gemini expects them to alternate.
    if (!contents.Empty() && sv(contents[contents.Size() - 1]["role"]) == gemini_role) {
      Value& prev = contents[contents.Size() - 1]["parts"];
      for (auto& p : parts.GetArray()) prev.PushBack(std::move(p), a);
      continue;
    }
    Value turn(rapidjson::kObjectType);
    add(turn, "role", gemini_role, a);
    add(turn, "parts", std::move(parts), a);
    contents.PushBack(std::move(turn), a);
  }
  if (contents.Empty()) return bad("messages", "every message is empty");
  if (gemini3) {
    for (auto& turn : contents.GetArray()) {
      if (sv(turn["role"]) == "model") add_skip_signature(turn, a);
    }
  }
  *out = std::move(contents);
  return std::nullopt;
}

void collect_media_urls(const Value& messages, std::vector<std::string>* urls) {
  auto visit = [&](const Value& b, auto& self) -> void {
    if (!b.IsObject()) return;
    const Value* t = field(b, "type");
    if (!t || !t->IsString()) return;
    std::string_view type = sv(*t);
    if (type == "tool_result") {
      const Value* c = field(b, "content");
      if (c && c->IsArray())
        for (const Value& x : c->GetArray()) self(x, self);
      return;
    }
    if (type != "image" && type != "document") return;
    const Value* src = field(b, "source");
    const Value* st = src && src->IsObject() ? field(*src, "type") : nullptr;
    const Value* url = src && src->IsObject() ? field(*src, "url") : nullptr;
    if (!st || !st->IsString() || sv(*st) != "url" || !url || !url->IsString()) return;
    std::string u(sv(*url));
    if (!media::is_http_url(u) || media::is_gemini_file_uri(u)) return;  // Gemini reads those
    if (std::find(urls->begin(), urls->end(), u) == urls->end()) urls->push_back(u);
  };
  if (!messages.IsArray()) return;
  for (const Value& m : messages.GetArray()) {
    const Value* c = m.IsObject() ? field(m, "content") : nullptr;
    if (!c || !c->IsArray()) continue;
    for (const Value& b : c->GetArray()) visit(b, visit);
  }
}

}  // namespace gemgate::anthropic::detail
