#include "filters/openai/translate/embeddings.h"

#include <cstring>

#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/detail/media.h"

namespace gemgate::openai {

using detail::Alloc;
using detail::Document;
using detail::field;
using detail::sv;
using detail::Value;

namespace {

// Per-request options shared by every input: outputDimensionality, taskType, title.
struct RequestOptions {
  std::optional<int64_t> dimensions;
  std::string task_type;
  std::string title;
};

// {"content":{"parts":[{"text":...}]}, ...options}, with "model" for batch entries.
Value embed_request(std::string_view text, const RequestOptions& o, std::string_view model,
                    Alloc& a) {
  Value part(rapidjson::kObjectType);
  detail::add(part, "text", text, a);
  Value parts(rapidjson::kArrayType);
  parts.PushBack(std::move(part), a);
  Value content(rapidjson::kObjectType);
  detail::add(content, "parts", std::move(parts), a);
  Value req(rapidjson::kObjectType);
  if (!model.empty()) detail::add(req, "model", "models/" + std::string(model), a);
  detail::add(req, "content", std::move(content), a);
  if (o.dimensions) detail::add(req, "outputDimensionality", Value(*o.dimensions), a);
  if (!o.task_type.empty()) detail::add(req, "taskType", o.task_type, a);
  if (!o.title.empty()) detail::add(req, "title", o.title, a);
  return req;
}

OpenAIError token_ids(const std::string& param) {
  return OpenAIError::invalid(
      "Invalid value for '" + param +
          "': token-id input is not supported by Gemini embedding models; send text.",
      param, "invalid_value");
}

// Base64 of the little-endian float32 array, as OpenAI's encoding_format "base64".
std::string float32_base64(const Value& values) {
  std::string bytes;
  bytes.reserve(values.Size() * 4);
  for (const Value& v : values.GetArray()) {
    float f = static_cast<float>(v.GetDouble());
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) bytes += static_cast<char>((bits >> (8 * i)) & 0xFF);
  }
  return detail::base64_encode(bytes);
}

bool all_numbers(const Value* values) {
  if (!values || !values->IsArray()) return false;
  for (const Value& v : values->GetArray()) {
    if (!v.IsNumber()) return false;
  }
  return true;
}

}  // namespace

Expected<EmbeddingPlan> plan_embeddings(std::string_view openai_body) {
  Document doc;
  std::string err;
  if (!detail::parse_json(openai_body, doc, &err)) {
    return OpenAIError::invalid("We could not parse the JSON body of your request: " + err + ".");
  }
  if (!doc.IsObject()) return OpenAIError::invalid("The request body must be a JSON object.");
  EmbeddingPlan plan;
  const Value* model = field(doc, "model");
  if (!model) return detail::missing_param("model");
  if (!model->IsString()) return detail::wrong_type("model", "a string", *model);
  auto upstream = upstream_model_name(sv(*model));
  if (!upstream) return upstream.error();
  plan.model = sv(*model);
  plan.upstream_model = std::move(*upstream);

  RequestOptions opts;
  if (const Value* dims = field(doc, "dimensions")) {
    opts.dimensions = detail::as_int(*dims);
    if (!opts.dimensions) return detail::wrong_type("dimensions", "an integer", *dims);
    if (*opts.dimensions < 1) return detail::bad_value("dimensions", "must be at least 1.");
  }
  if (const Value* fmt = field(doc, "encoding_format")) {
    if (!fmt->IsString()) return detail::wrong_type("encoding_format", "a string", *fmt);
    if (sv(*fmt) != "float" && sv(*fmt) != "base64") {
      return detail::bad_value("encoding_format", "Supported values are: 'float' and 'base64'.");
    }
    plan.base64 = sv(*fmt) == "base64";
  }
  for (auto [key, dst] : {std::pair{"task_type", &opts.task_type}, {"title", &opts.title}}) {
    if (const Value* v = field(doc, key)) {
      if (!v->IsString()) return detail::wrong_type(key, "a string", *v);
      *dst = sv(*v);
    }
  }

  // Collect the texts, refusing token ids with the offending param.
  const Value* input = field(doc, "input");
  if (!input) return detail::missing_param("input");
  std::vector<std::string_view> texts;
  if (input->IsString()) {
    texts.push_back(sv(*input));
  } else if (input->IsArray()) {
    if (input->Empty()) return detail::bad_value("input", "empty array.");
    if (input->Size() > kMaxEmbeddingInputs) {
      return detail::bad_value(
          "input", "at most " + std::to_string(kMaxEmbeddingInputs) + " inputs per request.");
    }
    for (rapidjson::SizeType i = 0; i < input->Size(); ++i) {
      const Value& v = (*input)[i];
      if (v.IsNumber() || v.IsArray())
        return token_ids(v.IsNumber() ? "input" : detail::join("input", i));
      if (!v.IsString()) return detail::wrong_type(detail::join("input", i), "a string", v);
      texts.push_back(sv(v));
    }
  } else {
    return detail::wrong_type("input", "a string or an array of strings", *input);
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].empty()) {
      return detail::bad_value(input->IsString() ? "input" : detail::join("input", i),
                               "empty string.");
    }
    plan.estimated_tokens += static_cast<int64_t>((texts[i].size() + 3) / 4);
  }
  plan.input_count = texts.size();

  std::string base = "/v1beta/models/" + plan.upstream_model;
  if (texts.size() == 1) {
    Document body;
    Value req = embed_request(texts[0], opts, {}, body.GetAllocator());
    plan.calls.push_back({base + ":embedContent", detail::write_json(req), 0, 1, false});
    return plan;
  }
  for (size_t first = 0; first < texts.size(); first += kMaxBatch) {
    size_t n = std::min(kMaxBatch, texts.size() - first);
    Document body(rapidjson::kObjectType);
    Alloc& a = body.GetAllocator();
    Value reqs(rapidjson::kArrayType);
    for (size_t i = first; i < first + n; ++i) {
      reqs.PushBack(embed_request(texts[i], opts, plan.upstream_model, a), a);
    }
    detail::add(body, "requests", std::move(reqs), a);
    plan.calls.push_back({base + ":batchEmbedContents", detail::write_json(body), first, n, true});
  }
  return plan;
}

Expected<std::string> merge_embeddings(const EmbeddingPlan& plan,
                                       const std::vector<std::string>& replies) {
  if (replies.size() != plan.calls.size()) {
    return OpenAIError::bad_upstream("Expected " + std::to_string(plan.calls.size()) +
                                     " Gemini embedding replies, got " +
                                     std::to_string(replies.size()) + ".");
  }
  Document out(rapidjson::kObjectType);
  Alloc& a = out.GetAllocator();
  Value data(rapidjson::kArrayType);
  for (size_t c = 0; c < plan.calls.size(); ++c) {
    const EmbeddingCall& call = plan.calls[c];
    Document doc;
    std::string err;
    if (!detail::parse_json(replies[c], doc, &err)) {
      return OpenAIError::bad_upstream("A Gemini embedding reply is not JSON: " + err + ".");
    }
    if (field(doc, "error")) return translate_gemini_error(200, replies[c]);
    // embedContent: {"embedding":{"values":[...]}}; batch: {"embeddings":[{"values":[...]}...]}
    std::vector<const Value*> vectors;
    if (call.batch) {
      const Value* list = field(doc, "embeddings");
      if (list && list->IsArray()) {
        for (const Value& e : list->GetArray()) vectors.push_back(field(e, "values"));
      }
    } else if (const Value* e = field(doc, "embedding")) {
      vectors.push_back(field(*e, "values"));
    }
    if (vectors.size() != call.count) {
      return OpenAIError::bad_upstream("A Gemini embedding reply holds " +
                                       std::to_string(vectors.size()) + " vectors for " +
                                       std::to_string(call.count) + " inputs.");
    }
    for (size_t i = 0; i < vectors.size(); ++i) {
      if (!all_numbers(vectors[i])) {
        return OpenAIError::bad_upstream("A Gemini embedding reply holds a malformed vector.");
      }
      Value item(rapidjson::kObjectType);
      detail::add(item, "object", "embedding", a);
      detail::add(item, "index", Value(static_cast<uint64_t>(call.first + i)), a);
      detail::add(item, "embedding",
                  plan.base64 ? detail::str(float32_base64(*vectors[i]), a) : Value(*vectors[i], a),
                  a);
      data.PushBack(std::move(item), a);
    }
  }
  detail::add(out, "object", "list", a);
  detail::add(out, "data", std::move(data), a);
  detail::add(out, "model", plan.model, a);
  Value usage(rapidjson::kObjectType);
  detail::add(usage, "prompt_tokens", Value(plan.estimated_tokens), a);
  detail::add(usage, "total_tokens", Value(plan.estimated_tokens), a);
  detail::add(out, "usage", std::move(usage), a);
  return detail::write_json(out);
}

}  // namespace gemgate::openai
