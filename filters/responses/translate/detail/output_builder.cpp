// Internal: Gemini answers → Responses output items and stream events. See output_builder.h.
#include "filters/responses/translate/detail/output_builder.h"

#include <utility>

#include "filters/openai/translate/detail/candidate.h"
#include "filters/openai/translate/detail/tool_ids.h"
#include "filters/responses/translate/detail/items.h"

namespace gemgate::responses::detail {

using namespace openai::detail;  // NOLINT: the JSON helpers

namespace {

bool is_content_stop(std::string_view reason) {
  return map_finish_reason(reason, false, false) == "content_filter";
}

// Character (code point) index of UTF-8 byte offset `bytes` in `text`.
int64_t char_index(std::string_view text, int64_t bytes) {
  int64_t chars = 0;
  for (int64_t i = 0; i < bytes && i < static_cast<int64_t>(text.size()); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++chars;
  }
  return chars;
}

}  // namespace

OutputBuilder::OutputBuilder(const ResponsesContext& ctx, const ResponseMeta& meta,
                             const ReasoningSeal& seal, std::string* events)
    : ctx_(ctx), meta_(meta), seal_(seal), events_(events), output_(rapidjson::kArrayType) {
  doc_.SetObject();
}

std::string OutputBuilder::next_id(std::string_view prefix) {
  std::string_view base = std::string_view(meta_.id).substr(meta_.id.find('_') + 1);
  return std::string(prefix) + "_" + std::string(base) + "_" + std::to_string(ids_++);
}

void OutputBuilder::emit(std::string_view type, Value payload) {
  if (!events_) return;
  Alloc& a = doc_.GetAllocator();
  Value event(rapidjson::kObjectType);
  add(event, "type", type, a);
  add(event, "sequence_number", Value(sequence_++), a);
  for (auto& m : payload.GetObject()) event.AddMember(m.name, m.value, a);
  *events_ += "event: ";
  *events_ += type;
  *events_ += "\ndata: ";
  openai::detail::append_json(*events_, event);
  *events_ += "\n\n";
}

Value OutputBuilder::visible(const Value& item) {
  Alloc& a = doc_.GetAllocator();
  Value copy(item, a);
  if (!ctx_.include_encrypted) copy.RemoveMember("encrypted_content");
  return copy;
}

void OutputBuilder::emit_added(const Value& item) {
  Alloc& a = doc_.GetAllocator();
  Value p(rapidjson::kObjectType);
  add(p, "output_index", Value(static_cast<uint64_t>(output_.Size())), a);
  add(p, "item", visible(item), a);
  emit("response.output_item.added", std::move(p));
}

void OutputBuilder::emit_done(Value item) {
  Alloc& a = doc_.GetAllocator();
  Value p(rapidjson::kObjectType);
  add(p, "output_index", Value(static_cast<uint64_t>(output_.Size())), a);
  add(p, "item", visible(item), a);
  emit("response.output_item.done", std::move(p));
  output_.PushBack(std::move(item), a);
}

Value OutputBuilder::response_object(std::string_view status, const Value* incomplete,
                                     const Value* error) {
  Alloc& a = doc_.GetAllocator();
  Value r(rapidjson::kObjectType);
  add(r, "id", meta_.id, a);
  add(r, "object", "response", a);
  add(r, "created_at", Value(meta_.created_at), a);
  add(r, "status", status, a);
  add(r, "error", error ? Value(*error, a) : Value(), a);
  add(r, "incomplete_details", incomplete ? Value(*incomplete, a) : Value(), a);
  add(r, "model", ctx_.model, a);
  Value out(rapidjson::kArrayType);
  if (status != "in_progress") {
    for (const Value& item : output_.GetArray()) out.PushBack(visible(item), a);
  }
  add(r, "output", std::move(out), a);
  Document echo;
  std::string why;
  if (parse_json(ctx_.echo_json, echo, &why) && echo.IsObject()) {
    for (auto& m : echo.GetObject()) add(r, sv(m.name), Value(m.value, a), a);
  }
  add(r, "store", Value(ctx_.store), a);
  if (status == "in_progress" || usage_metadata_.IsNull()) {
    add(r, "usage", Value(), a);
    return r;
  }
  openai::Usage u = usage_from(&usage_metadata_);
  Value usage(rapidjson::kObjectType);
  Value in_details(rapidjson::kObjectType);
  add(in_details, "cached_tokens", Value(u.cached_tokens), a);
  Value out_details(rapidjson::kObjectType);
  add(out_details, "reasoning_tokens", Value(u.reasoning_tokens), a);
  add(usage, "input_tokens", Value(u.prompt_tokens), a);
  add(usage, "input_tokens_details", std::move(in_details), a);
  add(usage, "output_tokens", Value(u.completion_tokens), a);
  add(usage, "output_tokens_details", std::move(out_details), a);
  add(usage, "total_tokens", Value(u.total_tokens), a);
  add(r, "usage", std::move(usage), a);
  return r;
}

void OutputBuilder::start() {
  Alloc& a = doc_.GetAllocator();
  for (const char* type : {"response.created", "response.in_progress"}) {
    Value p(rapidjson::kObjectType);
    add(p, "response", response_object("in_progress", nullptr, nullptr), a);
    emit(type, std::move(p));
  }
}

void OutputBuilder::add_answer(const Value& answer) {
  Alloc& a = doc_.GetAllocator();
  if (const Value* um = field(answer, "usageMetadata"); um && um->IsObject()) {
    usage_metadata_.CopyFrom(*um, a);
  }
  if (const Value* pf = field(answer, "promptFeedback")) {
    const Value* br = field(*pf, "blockReason");
    if (br && br->IsString()) block_reason_ = sv(*br);
  }
  const Value* cands = field(answer, "candidates");
  if (!cands || !cands->IsArray() || cands->Empty()) return;
  const Value& cand = (*cands)[0];  // one candidate: the Responses API has no `n`
  if (!cand.IsObject()) return;
  if (const Value* fr = field(cand, "finishReason"); fr && fr->IsString()) finish_reason_ = sv(*fr);
  if (const Value* gm = field(cand, "groundingMetadata"); gm && gm->IsObject()) {
    grounding_.CopyFrom(*gm, a);
  }
  CandidateParts parts = read_parts(cand);
  for (const PartRun& run : parts.runs) {
    switch (run.kind) {
      case PartRun::Kind::kText:
        add_text(run.text());
        break;
      case PartRun::Kind::kThought:
        if (ctx_.include_summary) add_thought(run.text());
        break;
      case PartRun::Kind::kCall:
        add_call(*run.call, run.signature);
        break;
      case PartRun::Kind::kImage:  // inline images and audio have no Responses output item here
      case PartRun::Kind::kAudio:
        break;
    }
  }
}

void OutputBuilder::add_text(std::string_view text) {
  Alloc& a = doc_.GetAllocator();
  if (open_ != Open::kMessage) {
    close_open();
    open_ = Open::kMessage;
    open_id_ = next_id("msg");
    Value item(rapidjson::kObjectType);
    add(item, "id", open_id_, a);
    add(item, "type", "message", a);
    add(item, "status", "in_progress", a);
    add(item, "role", "assistant", a);
    add(item, "content", Value(rapidjson::kArrayType), a);
    emit_added(item);
    Value part(rapidjson::kObjectType);
    add(part, "type", "output_text", a);
    add(part, "text", "", a);
    add(part, "annotations", Value(rapidjson::kArrayType), a);
    Value p(rapidjson::kObjectType);
    add(p, "item_id", open_id_, a);
    add(p, "output_index", Value(static_cast<uint64_t>(output_.Size())), a);
    add(p, "content_index", Value(0), a);
    add(p, "part", std::move(part), a);
    emit("response.content_part.added", std::move(p));
  }
  open_text_ += text;
  Value p(rapidjson::kObjectType);
  add(p, "item_id", open_id_, a);
  add(p, "output_index", Value(static_cast<uint64_t>(output_.Size())), a);
  add(p, "content_index", Value(0), a);
  add(p, "delta", text, a);
  add(p, "logprobs", Value(rapidjson::kArrayType), a);
  emit("response.output_text.delta", std::move(p));
}

void OutputBuilder::add_thought(std::string_view text) {
  Alloc& a = doc_.GetAllocator();
  if (open_ != Open::kReasoning) {
    close_open();
    open_ = Open::kReasoning;
    open_id_ = next_id("rs");
    Value item(rapidjson::kObjectType);
    add(item, "id", open_id_, a);
    add(item, "type", "reasoning", a);
    add(item, "summary", Value(rapidjson::kArrayType), a);
    emit_added(item);
    Value part(rapidjson::kObjectType);
    add(part, "type", "summary_text", a);
    add(part, "text", "", a);
    Value p(rapidjson::kObjectType);
    add(p, "item_id", open_id_, a);
    add(p, "output_index", Value(static_cast<uint64_t>(output_.Size())), a);
    add(p, "summary_index", Value(0), a);
    add(p, "part", std::move(part), a);
    emit("response.reasoning_summary_part.added", std::move(p));
  }
  open_text_ += text;
  Value p(rapidjson::kObjectType);
  add(p, "item_id", open_id_, a);
  add(p, "output_index", Value(static_cast<uint64_t>(output_.Size())), a);
  add(p, "summary_index", Value(0), a);
  add(p, "delta", text, a);
  emit("response.reasoning_summary_text.delta", std::move(p));
}

std::string OutputBuilder::seal_signatures(std::string_view call_id, std::string_view signature) {
  std::map<std::string, std::string> sigs{{std::string(call_id), std::string(signature)}};
  return seal_.seal ? seal_.seal(signatures_payload(sigs)) : std::string();
}

void OutputBuilder::add_call(const Value& call, std::string_view signature) {
  Alloc& a = doc_.GetAllocator();
  const Value* gid = field(call, "id");
  std::string call_id = gid && gid->IsString() && gid->GetStringLength() > 0
                            ? std::string(sv(*gid))
                            : generated_call_id(meta_.id, calls_);
  ++calls_;
  if (!signature.empty() && open_ == Open::kReasoning) {
    close_open(call_id, signature);
  } else {
    close_open();
    if (!signature.empty()) {
      Value rs(rapidjson::kObjectType);
      add(rs, "id", next_id("rs"), a);
      add(rs, "type", "reasoning", a);
      add(rs, "summary", Value(rapidjson::kArrayType), a);
      add(rs, "encrypted_content", seal_signatures(call_id, signature), a);
      emit_added(rs);
      emit_done(std::move(rs));
    }
  }
  const Value* name = field(call, "name");
  const Value* args = field(call, "args");
  std::string_view name_text = name && name->IsString() ? sv(*name) : std::string_view();
  for (const std::string& custom : ctx_.custom_tools) {
    if (custom == name_text) return add_custom_call(call_id, name_text, args);
  }
  std::string arguments = args ? write_json(*args) : "{}";
  std::string id = next_id("fc");
  Value item(rapidjson::kObjectType);
  add(item, "id", id, a);
  add(item, "type", "function_call", a);
  add(item, "status", "in_progress", a);
  add(item, "call_id", call_id, a);
  add(item, "name", name && name->IsString() ? sv(*name) : std::string_view(), a);
  add(item, "arguments", "", a);
  emit_added(item);
  const uint64_t index = output_.Size();
  Value delta(rapidjson::kObjectType);
  add(delta, "item_id", id, a);
  add(delta, "output_index", Value(index), a);
  add(delta, "delta", arguments, a);
  emit("response.function_call_arguments.delta", std::move(delta));
  Value done(rapidjson::kObjectType);
  add(done, "item_id", id, a);
  add(done, "output_index", Value(index), a);
  add(done, "arguments", arguments, a);
  emit("response.function_call_arguments.done", std::move(done));
  member(item, "status")->SetString("completed", a);
  *member(item, "arguments") = str(arguments, a);
  emit_done(std::move(item));
}

void OutputBuilder::add_custom_call(const std::string& call_id, std::string_view name,
                                    const Value* args) {
  Alloc& a = doc_.GetAllocator();
  // The freeform input is the call's one string argument; anything else is passed as its JSON.
  const Value* in = args && args->IsObject() ? field(*args, "input") : nullptr;
  std::string input = in && in->IsString() ? std::string(sv(*in)) : (args ? write_json(*args) : "");
  std::string id = next_id("ctc");
  Value item(rapidjson::kObjectType);
  add(item, "id", id, a);
  add(item, "type", "custom_tool_call", a);
  add(item, "status", "in_progress", a);
  add(item, "call_id", call_id, a);
  add(item, "name", name, a);
  add(item, "input", "", a);
  emit_added(item);
  const uint64_t index = output_.Size();
  Value delta(rapidjson::kObjectType);
  add(delta, "item_id", id, a);
  add(delta, "output_index", Value(index), a);
  add(delta, "delta", input, a);
  emit("response.custom_tool_call_input.delta", std::move(delta));
  Value done(rapidjson::kObjectType);
  add(done, "item_id", id, a);
  add(done, "output_index", Value(index), a);
  add(done, "input", input, a);
  emit("response.custom_tool_call_input.done", std::move(done));
  member(item, "status")->SetString("completed", a);
  *member(item, "input") = str(input, a);
  emit_done(std::move(item));
}

Value OutputBuilder::annotations() {
  Alloc& a = doc_.GetAllocator();
  Value out(rapidjson::kArrayType);
  if (!grounding_.IsObject()) return out;
  const Value* chunks = field(grounding_, "groundingChunks");
  const Value* supports = field(grounding_, "groundingSupports");
  if (!chunks || !chunks->IsArray() || !supports || !supports->IsArray()) return out;
  for (const Value& s : supports->GetArray()) {
    const Value* seg = s.IsObject() ? field(s, "segment") : nullptr;
    const Value* idx = s.IsObject() ? field(s, "groundingChunkIndices") : nullptr;
    if (!seg || !seg->IsObject() || !idx || !idx->IsArray()) continue;
    const Value* start = field(*seg, "startIndex");
    const Value* end = field(*seg, "endIndex");
    int64_t b0 = start ? as_int(*start).value_or(0) : 0;
    int64_t b1 = end ? as_int(*end).value_or(0) : 0;
    for (const Value& i : idx->GetArray()) {
      auto k = as_int(i);
      if (!k || *k < 0 || *k >= static_cast<int64_t>(chunks->Size())) continue;
      const Value& chunk = (*chunks)[static_cast<rapidjson::SizeType>(*k)];
      const Value* web = chunk.IsObject() ? field(chunk, "web") : nullptr;
      const Value* uri = web && web->IsObject() ? field(*web, "uri") : nullptr;
      if (!uri || !uri->IsString()) continue;
      const Value* title = field(*web, "title");
      Value ann(rapidjson::kObjectType);
      add(ann, "type", "url_citation", a);
      add(ann, "start_index", Value(char_index(open_text_, b0)), a);
      add(ann, "end_index", Value(char_index(open_text_, b1)), a);
      add(ann, "url", sv(*uri), a);
      add(ann, "title", title && title->IsString() ? sv(*title) : sv(*uri), a);
      out.PushBack(std::move(ann), a);
    }
  }
  return out;
}

void OutputBuilder::close_open(std::string_view signature_call_id, std::string_view signature) {
  Alloc& a = doc_.GetAllocator();
  const uint64_t index = output_.Size();
  if (open_ == Open::kMessage) {
    Value part(rapidjson::kObjectType);
    add(part, "type", "output_text", a);
    add(part, "text", open_text_, a);
    add(part, "annotations", annotations(), a);
    Value p(rapidjson::kObjectType);
    add(p, "item_id", open_id_, a);
    add(p, "output_index", Value(index), a);
    add(p, "content_index", Value(0), a);
    add(p, "text", open_text_, a);
    add(p, "logprobs", Value(rapidjson::kArrayType), a);
    emit("response.output_text.done", std::move(p));
    Value q(rapidjson::kObjectType);
    add(q, "item_id", open_id_, a);
    add(q, "output_index", Value(index), a);
    add(q, "content_index", Value(0), a);
    add(q, "part", Value(part, a), a);
    emit("response.content_part.done", std::move(q));
    Value content(rapidjson::kArrayType);
    content.PushBack(std::move(part), a);
    Value item(rapidjson::kObjectType);
    add(item, "id", open_id_, a);
    add(item, "type", "message", a);
    add(item, "status", cut_short_ ? "incomplete" : "completed", a);
    add(item, "role", "assistant", a);
    add(item, "content", std::move(content), a);
    emit_done(std::move(item));
  } else if (open_ == Open::kReasoning) {
    Value part(rapidjson::kObjectType);
    add(part, "type", "summary_text", a);
    add(part, "text", open_text_, a);
    Value p(rapidjson::kObjectType);
    add(p, "item_id", open_id_, a);
    add(p, "output_index", Value(index), a);
    add(p, "summary_index", Value(0), a);
    add(p, "text", open_text_, a);
    emit("response.reasoning_summary_text.done", std::move(p));
    Value q(rapidjson::kObjectType);
    add(q, "item_id", open_id_, a);
    add(q, "output_index", Value(index), a);
    add(q, "summary_index", Value(0), a);
    add(q, "part", Value(part, a), a);
    emit("response.reasoning_summary_part.done", std::move(q));
    Value summary(rapidjson::kArrayType);
    summary.PushBack(std::move(part), a);
    Value item(rapidjson::kObjectType);
    add(item, "id", open_id_, a);
    add(item, "type", "reasoning", a);
    add(item, "summary", std::move(summary), a);
    if (!signature.empty()) {
      add(item, "encrypted_content", seal_signatures(signature_call_id, signature), a);
    }
    emit_done(std::move(item));
  }
  open_ = Open::kNone;
  open_text_.clear();
}

FinishedResponse OutputBuilder::finish() {
  Alloc& a = doc_.GetAllocator();
  cut_short_ = finish_reason_ == "MAX_TOKENS" || is_content_stop(finish_reason_);
  close_open();  // a message cut short by the stop is itself incomplete, as OpenAI marks it
  const Value* queries = grounding_.IsObject() ? field(grounding_, "webSearchQueries") : nullptr;
  if (queries && queries->IsArray() && !queries->Empty()) {
    Value action(rapidjson::kObjectType);
    add(action, "type", "search", a);
    add(action, "query", (*queries)[0].IsString() ? sv((*queries)[0]) : std::string_view(), a);
    Value item(rapidjson::kObjectType);
    add(item, "id", next_id("ws"), a);
    add(item, "type", "web_search_call", a);
    add(item, "status", "completed", a);
    add(item, "action", std::move(action), a);
    emit_added(item);
    emit_done(std::move(item));
  }
  std::string status = "completed";
  Value incomplete(rapidjson::kObjectType);
  if (finish_reason_ == "MAX_TOKENS") {
    status = "incomplete";
    add(incomplete, "reason", "max_output_tokens", a);
  } else if (!block_reason_.empty() || is_content_stop(finish_reason_)) {
    status = "incomplete";
    add(incomplete, "reason", "content_filter", a);
  }
  Value response = response_object(status, status == "completed" ? nullptr : &incomplete, nullptr);
  FinishedResponse f;
  f.response_json = write_json(response);
  f.output_items_json = write_json(output_);
  f.status = status;
  f.usage = usage_from(usage_metadata_.IsObject() ? &usage_metadata_ : nullptr);
  Value p(rapidjson::kObjectType);
  add(p, "response", std::move(response), a);
  emit(status == "completed" ? "response.completed" : "response.incomplete", std::move(p));
  return f;
}

void OutputBuilder::fail(const OpenAIError& error) {
  Alloc& a = doc_.GetAllocator();
  Value e(rapidjson::kObjectType);
  add(e, "code", error.code ? std::string_view(*error.code) : std::string_view("server_error"), a);
  add(e, "message", error.message, a);
  Value p(rapidjson::kObjectType);
  add(p, "response", response_object("failed", nullptr, &e), a);
  emit("response.failed", std::move(p));
}

}  // namespace gemgate::responses::detail
