// Internal: what the non-stream and stream response translators share — reading a candidate's
// parts, finish reasons, usage, tool calls and logprobs in OpenAI's terms.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/chat_response.h"
#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::openai::detail {

// One run of a candidate's parts, in order: consecutive text (or thought) parts are joined;
// each inline image or audio part is a run of its own.
struct PartRun {
  enum class Kind { kText, kThought, kCall, kImage, kAudio };
  Kind kind = Kind::kText;
  // kText / kThought: the run's text (a view of the document's string when the run is one part).
  std::string_view text() const { return joined.empty() ? first_text : joined; }
  std::string_view first_text;  // the run's first text part
  std::string joined;           // the run's texts joined, once a second one came
  const Value* call = nullptr;  // kCall: the functionCall object
  std::string_view signature;   // kCall: the part's thoughtSignature
  std::string_view mime;        // kImage / kAudio: inlineData.mimeType
  std::string_view data;        // kImage / kAudio: inlineData.data (base64)
};

struct CandidateParts {
  std::vector<PartRun> runs;
  std::string_view text_signature;  // last thoughtSignature found on a text part
};

// Reads candidate.content.parts (missing content → nothing). Empty texts are skipped; inline
// data becomes kImage (image/*) or kAudio (audio/*) runs, other inline data, executable code and
// unknown parts are ignored.
CandidateParts read_parts(const Value& candidate);
// The same into `out` (cleared first), reusing its storage: for a stream's events.
void read_parts(const Value& candidate, CandidateParts& out);

// Gemini finishReason → OpenAI finish_reason ("" = absent → "stop"). Stop and length become
// "tool_calls" when the choice has tool calls; with legacy functions that is "function_call".
std::string_view map_finish_reason(std::string_view gemini, bool has_calls, bool legacy);

// {"native_finish_reason"?, "finish_message"?, "block_reason"?} or a null value when all empty.
Value provider_fields(std::string_view native, std::string_view message,
                      std::string_view block_reason, Alloc& a);

Usage usage_from(const Value* usage_metadata);
Value usage_json(const Usage& u, Alloc& a);

// A tool call for message.tool_calls (index < 0) or a stream delta (index >= 0):
// {[index,] id, type:"function", function:{name, arguments}[, extra_content]}.
// `base_id` is used unless the call carries Gemini's own id.
Value tool_call_json(const Value& call, std::string_view base_id, std::string_view signature,
                     int index, Alloc& a);
// The legacy {"name","arguments"} form.
Value function_call_json(const Value& call, Alloc& a);

// candidate.logprobsResult → {"content":[{token, logprob, bytes, top_logprobs}], "refusal":null};
// a null value when the candidate has none.
Value logprobs_json(const Value& candidate, Alloc& a);

// An image run as an entry of message.images / delta.images (the extension OpenAI-compatible
// gateways use): {"type":"image_url","image_url":{"url":"data:<mime>;base64,<data>"},"index"}.
Value image_json(const PartRun& image, int index, Alloc& a);

// The candidate's index: `index` when it is a sane integer, else `position`; -1 when absurd.
int candidate_index(const Value& candidate, size_t position);

}  // namespace gemgate::openai::detail
