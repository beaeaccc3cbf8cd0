// Sampling parameters, stop, n, logprobs, response_format and reasoning → generationConfig.
#include "filters/openai/translate/detail/request_parts.h"

namespace gemgate::openai::detail {

namespace {

constexpr size_t kMaxStopSequences = 5;  // Gemini's limit (OpenAI's is 4)

Failure copy_number(const Value& root, std::string_view from, std::string_view to, Alloc& a,
                    Value& config) {
  const Value* v = field(root, from);
  if (!v) return std::nullopt;
  if (!v->IsNumber()) return wrong_type(std::string(from), "a number", *v);
  add(config, to, Value(*v, a), a);
  return std::nullopt;
}

// An integer field >= min, or nullopt when absent; *fail set on a bad value.
std::optional<int64_t> int_field(const Value& root, std::string_view name, int64_t min,
                                 Failure* fail) {
  const Value* v = field(root, name);
  if (!v) return std::nullopt;
  auto n = as_int(*v);
  if (!n) {
    *fail = wrong_type(std::string(name), "an integer", *v);
  } else if (*n < min) {
    *fail = bad_value(std::string(name), "must be at least " + std::to_string(min) + ".");
  }
  return n;
}

Failure stop_sequences(const Value& stop, Alloc& a, Value& config) {
  Value seqs(rapidjson::kArrayType);
  if (stop.IsString()) {
    if (stop.GetStringLength() > 0) seqs.PushBack(Value(stop, a), a);
  } else if (stop.IsArray()) {
    for (rapidjson::SizeType i = 0; i < stop.Size(); ++i) {
      if (!stop[i].IsString()) return wrong_type(join("stop", i), "a string", stop[i]);
      if (stop[i].GetStringLength() > 0) seqs.PushBack(Value(stop[i], a), a);
    }
    if (seqs.Size() > kMaxStopSequences) {
      return bad_value("stop", "Gemini accepts at most 5 stop sequences.");
    }
  } else {
    return wrong_type("stop", "a string or an array of strings", stop);
  }
  if (!seqs.Empty()) add(config, "stopSequences", std::move(seqs), a);
  return std::nullopt;
}

Failure response_format(const Value& rf, RequestState& st, Value& config) {
  Alloc& a = st.a;
  if (!rf.IsObject()) return wrong_type("response_format", "an object", rf);
  const Value* type = field(rf, "type");
  if (!type) return missing_param("response_format.type");
  if (!type->IsString()) return wrong_type("response_format.type", "a string", *type);
  std::string_view t = sv(*type);
  if (t == "text") return std::nullopt;
  if (t != "json_object" && t != "json_schema") {
    return bad_value("response_format.type",
                     "Supported values are: 'text', 'json_object' and 'json_schema'.");
  }
  add(config, "responseMimeType", "application/json", a);
  if (t == "json_object") return std::nullopt;
  const Value* js = field(rf, "json_schema");
  if (!js) return missing_param("response_format.json_schema");
  if (!js->IsObject()) return wrong_type("response_format.json_schema", "an object", *js);
  // No schema: JSON mode only (never send the {name,strict} wrapper as a schema).
  const Value* schema = field(*js, "schema");
  if (!schema) return std::nullopt;
  const std::string p = "response_format.json_schema.schema";
  if (!schema->IsObject()) return wrong_type(p, "an object", *schema);
  auto cleaned = clean_schema(*schema, st.options.schema_mode, a, p);
  if (!cleaned) return cleaned.error();
  bool json_schema = st.options.schema_mode == SchemaMode::kJsonSchema;
  add(config, json_schema ? "responseJsonSchema" : "responseSchema", std::move(*cleaned), a);
  return std::nullopt;
}

// reasoning_effort → thinkingBudget (Gemini 2.x) or thinkingLevel (Gemini 3). Budgets are Google's
// own compat-layer numbers (1K/8K/24K); LiteLLM's 1024/2048/4096 starve "high".
void effort_to_thinking(std::string_view effort, std::string_view model, Alloc& a, Value& tc) {
  if (is_gemini3(model)) {
    // 3 Flash accepts "minimal"; 3 Pro refuses MEDIUM and cannot switch thinking off.
    bool flash = model.find("flash") != std::string_view::npos;
    bool pro = model.find("pro") != std::string_view::npos;
    std::string_view level = effort;
    if (effort == "none" || effort == "minimal") level = flash ? "minimal" : "low";
    if (effort == "medium" && pro) level = "high";
    add(tc, "thinkingLevel", level, a);
    return;
  }
  int budget = 0;  // "none"; 2.5 Pro cannot go below 128 and Gemini's 400 says so
  if (effort == "minimal") budget = 512;
  if (effort == "low") budget = 1024;
  if (effort == "medium") budget = 8192;
  if (effort == "high") budget = 24576;
  add(tc, "thinkingBudget", Value(budget), a);
}

// One field of google.thinking_config, accepting snake_case (Google's documented spelling inside
// extra_body) and camelCase.
const Value* tc_field(const Value& tc, std::string_view snake, std::string_view camel) {
  const Value* v = field(tc, snake);
  return v ? v : field(tc, camel);
}

Failure thinking(const Value& root, RequestState& st, Value& config, ChatContext& ctx) {
  Alloc& a = st.a;
  std::string_view effort;
  if (const Value* e = field(root, "reasoning_effort")) {
    if (!e->IsString()) return wrong_type("reasoning_effort", "a string", *e);
    effort = sv(*e);
    if (effort != "none" && effort != "minimal" && effort != "low" && effort != "medium" &&
        effort != "high") {
      return bad_value("reasoning_effort",
                       "Supported values are: 'none', 'minimal', 'low', 'medium' and 'high'.");
    }
  }
  std::string gp;
  const Value* google = google_extension(root, &gp);
  const Value* tc = google ? field(*google, "thinking_config") : nullptr;
  std::string tp = join(gp, "thinking_config");
  if (!tc && google) {
    tc = field(*google, "thinkingConfig");
    tp = join(gp, "thinkingConfig");
  }
  const Value *budget = nullptr, *level = nullptr, *include = nullptr;
  if (tc) {
    if (!tc->IsObject()) return wrong_type(tp, "an object", *tc);
    budget = tc_field(*tc, "thinking_budget", "thinkingBudget");
    level = tc_field(*tc, "thinking_level", "thinkingLevel");
    include = tc_field(*tc, "include_thoughts", "includeThoughts");
    if (budget && !as_int(*budget))
      return wrong_type(join(tp, "thinking_budget"), "an integer", *budget);
    if (level && !level->IsString())
      return wrong_type(join(tp, "thinking_level"), "a string", *level);
    if (include && !include->IsBool()) {
      return wrong_type(join(tp, "include_thoughts"), "a boolean", *include);
    }
    if (budget && level) {
      return bad_value(tp, "set thinking_budget or thinking_level, not both.");
    }
    if (!effort.empty() && (budget || level)) {
      return bad_value("reasoning_effort",
                       "reasoning_effort and " + tp + " budget/level cannot both be set.");
    }
  }
  ctx.include_reasoning = include ? include->GetBool() : st.options.include_reasoning;

  Value out(rapidjson::kObjectType);
  if (!effort.empty()) effort_to_thinking(effort, st.upstream_model, a, out);
  if (budget) add(out, "thinkingBudget", Value(*as_int(*budget)), a);
  if (level) add(out, "thinkingLevel", Value(*level, a), a);
  if (ctx.include_reasoning) {
    add(out, "includeThoughts", Value(true), a);
  } else if (include) {
    add(out, "includeThoughts", Value(false), a);
  }
  if (!out.ObjectEmpty()) add(config, "thinkingConfig", std::move(out), a);
  return std::nullopt;
}

}  // namespace

const Value* google_extension(const Value& root, std::string* param) {
  if (const Value* g = field(root, "google"); g && g->IsObject()) {
    *param = "google";
    return g;
  }
  const Value* extra = field(root, "extra_body");
  const Value* g = extra ? field(*extra, "google") : nullptr;
  if (g && g->IsObject()) {
    *param = "extra_body.google";
    return g;
  }
  return nullptr;
}

Failure translate_generation_config(const Value& root, RequestState& st, Value& config,
                                    ChatContext& ctx) {
  Alloc& a = st.a;
  config.SetObject();
  if (auto f = copy_number(root, "temperature", "temperature", a, config)) return f;
  if (auto f = copy_number(root, "top_p", "topP", a, config)) return f;
  Failure fail;
  if (auto k = int_field(root, "top_k", 1, &fail); k && !fail) add(config, "topK", Value(*k), a);
  if (fail) return fail;

  // max_completion_tokens wins over the deprecated max_tokens when both are sent.
  auto max_tokens = int_field(root, "max_tokens", 1, &fail);
  if (fail) return fail;
  auto max_completion = int_field(root, "max_completion_tokens", 1, &fail);
  if (fail) return fail;
  if (max_completion) max_tokens = max_completion;
  if (max_tokens) add(config, "maxOutputTokens", Value(*max_tokens), a);

  if (const Value* stop = field(root, "stop")) {
    if (auto f = stop_sequences(*stop, a, config)) return f;
  }
  if (auto n = int_field(root, "n", 1, &fail); n && !fail) {
    if (*n > 128) return bad_value("n", "must be at most 128.");
    add(config, "candidateCount", Value(*n), a);
    ctx.n = static_cast<int>(*n);
  }
  if (fail) return fail;
  if (const Value* seed = field(root, "seed")) {
    auto s = as_int(*seed);
    if (!s) return wrong_type("seed", "an integer", *seed);
    add(config, "seed", Value(*s), a);
  }
  if (auto f = copy_number(root, "presence_penalty", "presencePenalty", a, config)) return f;
  if (auto f = copy_number(root, "frequency_penalty", "frequencyPenalty", a, config)) return f;

  if (const Value* lp = field(root, "logprobs")) {
    if (!lp->IsBool()) return wrong_type("logprobs", "a boolean", *lp);
    ctx.logprobs = lp->GetBool();
    if (ctx.logprobs) add(config, "responseLogprobs", Value(true), a);
  }
  if (auto top = int_field(root, "top_logprobs", 0, &fail); top && !fail) {
    if (*top > 20) return bad_value("top_logprobs", "must be at most 20.");
    if (ctx.logprobs) add(config, "logprobs", Value(*top), a);
  }
  if (fail) return fail;

  if (const Value* rf = field(root, "response_format")) {
    if (auto f = response_format(*rf, st, config)) return f;
  }
  return thinking(root, st, config, ctx);
}

}  // namespace gemgate::openai::detail
