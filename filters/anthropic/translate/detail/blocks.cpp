#include "filters/anthropic/translate/detail/blocks.h"

#include "filters/anthropic/translate/detail/content.h"

namespace gemgate::anthropic::detail {

namespace {

using openai::detail::add;
using openai::detail::field;
using openai::detail::sv;

std::string index_prefix(std::string_view type, size_t index) {
  return "{\"type\":\"" + std::string(type) + "\",\"index\":" + std::to_string(index);
}

std::string quoted(std::string_view s) {
  return openai::detail::quote_json(s);
}

}  // namespace

std::string sse_event(std::string_view type, std::string_view json) {
  std::string out = "event: ";
  out += type;
  out += "\ndata: ";
  out += json;
  out += "\n\n";
  return out;
}

BlockAssembler::BlockAssembler(std::string message_id, bool emit_events)
    : message_id_(std::move(message_id)), emit_(emit_events) {}

void BlockAssembler::event(std::string_view type, const std::string& json) {
  if (emit_) events_ += sse_event(type, json);
}

void BlockAssembler::open(Block b) {
  close();
  size_t index = blocks_.size();
  std::string block;
  switch (b.kind) {
    case Kind::kText:
      block = "{\"type\":\"text\",\"text\":\"\"}";
      break;
    case Kind::kThinking:
      block = "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}";
      break;
    default:
      block = "{\"type\":\"tool_use\",\"id\":" + quoted(b.id) + ",\"name\":" + quoted(b.name) +
              ",\"input\":{}}";
      break;
  }
  event("content_block_start",
        index_prefix("content_block_start", index) + ",\"content_block\":" + block + "}");
  blocks_.push_back(std::move(b));
  open_ = true;
}

void BlockAssembler::close() {
  if (!open_) return;
  open_ = false;
  event("content_block_stop", index_prefix("content_block_stop", blocks_.size() - 1) + "}");
}

void BlockAssembler::append_text(Kind kind, std::string_view text) {
  if (!open_ || blocks_.back().kind != kind ||
      (kind == Kind::kThinking && !blocks_.back().signature.empty())) {
    open(block_of(kind));
  }
  if (text.empty()) return;
  blocks_.back().text += text;
  if (!emit_) return;
  // The most frequent event, appended in place (the same bytes as event() with index_prefix()).
  events_ += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":";
  events_ += std::to_string(blocks_.size() - 1);
  events_ += kind == Kind::kThinking ? ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":"
                                     : ",\"delta\":{\"type\":\"text_delta\",\"text\":";
  openai::detail::append_quoted_json(events_, text);
  events_ += "}}\n\n";
}

void BlockAssembler::add_signature(std::string_view signature) {
  blocks_.back().signature = signature;
  event("content_block_delta",
        index_prefix("content_block_delta", blocks_.size() - 1) +
            ",\"delta\":{\"type\":\"signature_delta\",\"signature\":" + quoted(signature) + "}}");
}

void BlockAssembler::part(const Value& p) {
  if (!p.IsObject()) return;
  const Value* sigv = field(p, "thoughtSignature");
  std::string_view sig = sigv && sigv->IsString() ? sv(*sigv) : std::string_view();
  if (const Value* call = field(p, "functionCall"); call && call->IsObject()) {
    const Value* gid = field(*call, "id");
    const Value* name = field(*call, "name");
    const Value* args = field(*call, "args");
    std::string base = gid && gid->IsString() && gid->GetStringLength() > 0
                           ? std::string(sv(*gid))
                           : generated_tool_use_id(message_id_, tool_uses_);
    ++tool_uses_;
    has_tool_use_ = true;
    Block b = block_of(Kind::kToolUse);
    b.id = make_tool_use_id(base, sig);
    b.name = name && name->IsString() ? std::string(sv(*name)) : std::string();
    b.input_json = args && args->IsObject() ? openai::detail::write_json(*args) : "{}";
    std::string json = b.input_json;
    open(std::move(b));
    event("content_block_delta",
          index_prefix("content_block_delta", blocks_.size() - 1) +
              ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" + quoted(json) + "}}");
    close();
    return;
  }
  const Value* text = field(p, "text");
  if (!text || !text->IsString()) return;
  const Value* thought = field(p, "thought");
  if (thought && thought->IsBool() && thought->GetBool()) {
    if (text->GetStringLength() == 0 && sig.empty()) return;
    append_text(Kind::kThinking, sv(*text));
    if (!sig.empty()) add_signature(sig);
    return;
  }
  if (!sig.empty()) {
    open(block_of(Kind::kThinking));
    add_signature(sig);
    close();
  }
  if (text->GetStringLength() > 0) append_text(Kind::kText, sv(*text));
}

Value BlockAssembler::content(Alloc& a) const {
  Value out(rapidjson::kArrayType);
  for (const Block& b : blocks_) {
    Value v(rapidjson::kObjectType);
    switch (b.kind) {
      case Kind::kText:
        add(v, "type", "text", a);
        add(v, "text", b.text, a);
        break;
      case Kind::kThinking:
        add(v, "type", "thinking", a);
        add(v, "thinking", b.text, a);
        add(v, "signature", b.signature, a);
        break;
      default: {
        add(v, "type", "tool_use", a);
        add(v, "id", b.id, a);
        add(v, "name", b.name, a);
        Document input;
        std::string why;
        openai::detail::parse_json(b.input_json, input, &why);
        add(v, "input", input.IsObject() ? Value(input, a) : Value(rapidjson::kObjectType), a);
        break;
      }
    }
    out.PushBack(std::move(v), a);
  }
  return out;
}

}  // namespace gemgate::anthropic::detail
