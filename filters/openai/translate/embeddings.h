// OpenAI `POST /v1/embeddings` ⇄ Gemini embedContent / batchEmbedContents.
//
//   auto plan = plan_embeddings(body);
//   if (!plan) return reply(plan.error());
//   std::vector<std::string> replies;
//   for (const auto& call : plan->calls) replies.push_back(post(call.path, call.body));
//   auto res = merge_embeddings(*plan, replies);   // OpenAI {"object":"list",...}
//
// One string input is one embedContent call; an array of strings becomes batchEmbedContents calls
// of at most kMaxBatch inputs each, and the results are re-indexed in input order. `dimensions`
// becomes outputDimensionality on every request; the extensions `task_type` (e.g.
// "RETRIEVAL_QUERY") and `title` are passed through. Token-id input (arrays of integers) is a 400:
// Gemini only embeds text.
//
// encoding_format "float" (default) returns number arrays; "base64" returns the base64 of the
// little-endian float32 array, like OpenAI (the OpenAI SDKs ask for base64 by default and decode
// it). Gemini reports no token usage for embeddings, so usage is an estimate (UTF-8 bytes / 4,
// rounded up, per input) — never negative, never exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/errors.h"

namespace gemgate::openai {

// Requests per batchEmbedContents call (Gemini's documented limit).
constexpr size_t kMaxBatch = 100;
// Inputs per OpenAI request (OpenAI's own limit).
constexpr size_t kMaxEmbeddingInputs = 2048;

struct EmbeddingCall {
  std::string path;  // "/v1beta/models/{model}:embedContent" or ":batchEmbedContents"
  std::string body;
  size_t first = 0;  // index of this call's first input in the OpenAI request
  size_t count = 0;  // inputs covered by this call
  bool batch = false;
};

struct EmbeddingPlan {
  std::string model;           // as the client sent it (echoed)
  std::string upstream_model;  // in the paths
  bool base64 = false;
  size_t input_count = 0;
  int64_t estimated_tokens = 0;
  std::vector<EmbeddingCall> calls;  // in order; each covers the next `count` inputs
};

Expected<EmbeddingPlan> plan_embeddings(std::string_view openai_body);

// `replies[i]` is the 2xx body of plan.calls[i]. Fails with a 502 when a reply is malformed or
// holds the wrong number of vectors. (Non-2xx replies: use translate_gemini_error.)
Expected<std::string> merge_embeddings(const EmbeddingPlan& plan,
                                       const std::vector<std::string>& replies);

}  // namespace gemgate::openai
