#include "filters/openai/translate/detail/candidate.h"

#include "filters/openai/translate/detail/tool_ids.h"

namespace gemgate::openai::detail {

namespace {

int64_t count(const Value& usage, std::string_view key) {
  const Value* v = field(usage, key);
  auto n = v ? as_int(*v) : std::nullopt;
  return n && *n > 0 ? *n : 0;
}

// Sum of the AUDIO entries of a [{modality, tokenCount}] list; nullopt when there are none.
std::optional<int64_t> audio_tokens(const Value& usage, std::string_view key) {
  const Value* list = field(usage, key);
  if (!list || !list->IsArray()) return std::nullopt;
  std::optional<int64_t> sum;
  for (const Value& e : list->GetArray()) {
    const Value* m = field(e, "modality");
    if (m && m->IsString() && sv(*m) == "AUDIO") sum = sum.value_or(0) + count(e, "tokenCount");
  }
  return sum;
}

Value token_bytes(std::string_view token, Alloc& a) {
  Value bytes(rapidjson::kArrayType);
  for (unsigned char c : token) bytes.PushBack(Value(static_cast<int>(c)), a);
  return bytes;
}

// {"token","logprob","bytes"} from a Gemini {"token","logProbability"}.
Value token_logprob(const Value& c, Alloc& a) {
  const Value* token = field(c, "token");
  const Value* lp = field(c, "logProbability");
  std::string_view t = token && token->IsString() ? sv(*token) : std::string_view();
  Value out(rapidjson::kObjectType);
  add(out, "token", t, a);
  add(out, "logprob", Value(lp && lp->IsNumber() ? lp->GetDouble() : 0.0), a);
  add(out, "bytes", token_bytes(t, a), a);
  return out;
}

}  // namespace

CandidateParts read_parts(const Value& candidate) {
  CandidateParts out;
  read_parts(candidate, out);
  return out;
}

void read_parts(const Value& candidate, CandidateParts& out) {
  out.runs.clear();
  out.text_signature = {};
  const Value* content = field(candidate, "content");
  const Value* parts = content ? field(*content, "parts") : nullptr;
  if (!parts || !parts->IsArray()) return;
  for (const Value& p : parts->GetArray()) {
    if (!p.IsObject()) continue;
    const Value* sig = field(p, "thoughtSignature");
    std::string_view signature = sig && sig->IsString() ? sv(*sig) : std::string_view();
    if (const Value* call = field(p, "functionCall"); call && call->IsObject()) {
      PartRun run;
      run.kind = PartRun::Kind::kCall;
      run.call = call;
      run.signature = signature;
      out.runs.push_back(std::move(run));
      continue;
    }
    if (const Value* inline_data = field(p, "inlineData"); inline_data && inline_data->IsObject()) {
      const Value* mime = field(*inline_data, "mimeType");
      const Value* data = field(*inline_data, "data");
      if (!mime || !mime->IsString() || !data || !data->IsString()) continue;
      PartRun run;
      run.mime = sv(*mime);
      run.data = sv(*data);
      if (run.mime.starts_with("image/")) {
        run.kind = PartRun::Kind::kImage;
      } else if (run.mime.starts_with("audio/")) {
        run.kind = PartRun::Kind::kAudio;
      } else {
        continue;
      }
      out.runs.push_back(std::move(run));
      continue;
    }
    const Value* text = field(p, "text");
    if (!text || !text->IsString()) continue;
    if (!signature.empty()) out.text_signature = signature;
    if (text->GetStringLength() == 0) continue;
    const Value* thought = field(p, "thought");
    auto kind = thought && thought->IsBool() && thought->GetBool() ? PartRun::Kind::kThought
                                                                   : PartRun::Kind::kText;
    if (!out.runs.empty() && out.runs.back().kind == kind) {
      PartRun& run = out.runs.back();
      if (run.joined.empty()) run.joined = run.first_text;
      run.joined += sv(*text);
    } else {
      PartRun run;
      run.kind = kind;
      run.first_text = sv(*text);
      out.runs.push_back(std::move(run));
    }
  }
}

std::string_view map_finish_reason(std::string_view g, bool has_calls, bool legacy) {
  std::string_view r = "stop";
  if (g == "MAX_TOKENS") {
    r = "length";
  } else if (g == "SAFETY" || g == "RECITATION" || g == "LANGUAGE" || g == "OTHER" ||
             g == "BLOCKLIST" || g == "PROHIBITED_CONTENT" || g == "SPII" || g == "IMAGE_SAFETY" ||
             g == "IMAGE_PROHIBITED_CONTENT" || g == "IMAGE_RECITATION" || g == "IMAGE_OTHER" ||
             g == "NO_IMAGE") {
    r = "content_filter";
  }
  // STOP, FINISH_REASON_UNSPECIFIED, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
  // TOO_MANY_TOOL_CALLS, MISSING_THOUGHT_SIGNATURE and unknown values stay "stop".
  if (has_calls && (r == "stop" || r == "length")) r = legacy ? "function_call" : "tool_calls";
  return r;
}

Value provider_fields(std::string_view native, std::string_view message,
                      std::string_view block_reason, Alloc& a) {
  Value out(rapidjson::kObjectType);
  if (!native.empty() && native != "STOP" && native != "MAX_TOKENS") {
    add(out, "native_finish_reason", native, a);
  }
  if (!message.empty()) add(out, "finish_message", message, a);
  if (!block_reason.empty()) add(out, "block_reason", block_reason, a);
  return out.ObjectEmpty() ? Value() : std::move(out);
}

Usage usage_from(const Value* um) {
  Usage u;
  if (!um || !um->IsObject()) return u;
  int64_t candidates = count(*um, "candidatesTokenCount");
  u.reasoning_tokens = count(*um, "thoughtsTokenCount");
  u.prompt_tokens = count(*um, "promptTokenCount") + count(*um, "toolUsePromptTokenCount");
  u.completion_tokens = candidates + u.reasoning_tokens;
  u.total_tokens = count(*um, "totalTokenCount");
  if (u.total_tokens == 0) u.total_tokens = u.prompt_tokens + u.completion_tokens;
  u.cached_tokens = count(*um, "cachedContentTokenCount");
  u.prompt_audio_tokens = audio_tokens(*um, "promptTokensDetails");
  u.completion_audio_tokens = audio_tokens(*um, "candidatesTokensDetails");
  return u;
}

Value usage_json(const Usage& u, Alloc& a) {
  Value out(rapidjson::kObjectType);
  add(out, "prompt_tokens", Value(u.prompt_tokens), a);
  add(out, "completion_tokens", Value(u.completion_tokens), a);
  add(out, "total_tokens", Value(u.total_tokens), a);
  Value pd(rapidjson::kObjectType);
  add(pd, "cached_tokens", Value(u.cached_tokens), a);
  if (u.prompt_audio_tokens) add(pd, "audio_tokens", Value(*u.prompt_audio_tokens), a);
  add(out, "prompt_tokens_details", std::move(pd), a);
  Value cd(rapidjson::kObjectType);
  add(cd, "reasoning_tokens", Value(u.reasoning_tokens), a);
  if (u.completion_audio_tokens) add(cd, "audio_tokens", Value(*u.completion_audio_tokens), a);
  add(out, "completion_tokens_details", std::move(cd), a);
  return out;
}

Value tool_call_json(const Value& call, std::string_view base_id, std::string_view signature,
                     int index, Alloc& a) {
  const Value* gid = field(call, "id");
  if (gid && gid->IsString() && gid->GetStringLength() > 0) base_id = sv(*gid);
  Value out(rapidjson::kObjectType);
  if (index >= 0) add(out, "index", Value(index), a);
  add(out, "id", make_tool_call_id(base_id, signature), a);
  add(out, "type", "function", a);
  add(out, "function", function_call_json(call, a), a);
  if (!signature.empty()) {
    Value google(rapidjson::kObjectType);
    add(google, "thought_signature", signature, a);
    Value extra(rapidjson::kObjectType);
    add(extra, "google", std::move(google), a);
    add(out, "extra_content", std::move(extra), a);
  }
  return out;
}

Value function_call_json(const Value& call, Alloc& a) {
  const Value* name = field(call, "name");
  const Value* args = field(call, "args");
  Value fn(rapidjson::kObjectType);
  add(fn, "name", name && name->IsString() ? sv(*name) : std::string_view(), a);
  add(fn, "arguments", args && args->IsObject() ? write_json(*args) : std::string("{}"), a);
  return fn;
}

Value logprobs_json(const Value& candidate, Alloc& a) {
  const Value* lr = field(candidate, "logprobsResult");
  const Value* chosen = lr ? field(*lr, "chosenCandidates") : nullptr;
  if (!chosen || !chosen->IsArray()) return Value();
  const Value* top = field(*lr, "topCandidates");
  Value content(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < chosen->Size(); ++i) {
    Value entry = token_logprob((*chosen)[i], a);
    Value tops(rapidjson::kArrayType);
    if (top && top->IsArray() && i < top->Size()) {
      const Value* list = field((*top)[i], "candidates");
      if (list && list->IsArray()) {
        for (const Value& c : list->GetArray()) tops.PushBack(token_logprob(c, a), a);
      }
    }
    add(entry, "top_logprobs", std::move(tops), a);
    content.PushBack(std::move(entry), a);
  }
  Value out(rapidjson::kObjectType);
  add(out, "content", std::move(content), a);
  add(out, "refusal", Value(), a);
  return out;
}

Value image_json(const PartRun& image, int index, Alloc& a) {
  std::string url = "data:";
  url += image.mime;
  url += ";base64,";
  url += image.data;
  Value image_url(rapidjson::kObjectType);
  add(image_url, "url", url, a);
  Value out(rapidjson::kObjectType);
  add(out, "type", "image_url", a);
  add(out, "image_url", std::move(image_url), a);
  add(out, "index", Value(index), a);
  return out;
}

int candidate_index(const Value& candidate, size_t position) {
  const Value* idx = field(candidate, "index");
  auto n = idx ? as_int(*idx) : std::optional<int64_t>(static_cast<int64_t>(position));
  if (!n || *n < 0 || *n >= 1024) return -1;
  return static_cast<int>(*n);
}

}  // namespace gemgate::openai::detail
