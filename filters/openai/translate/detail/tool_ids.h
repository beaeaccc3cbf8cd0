// Internal: the tool-call id scheme that carries Gemini thought signatures through OpenAI clients.
//
// A tool call id is "<base>__thought__<signature>" when Gemini attached a thoughtSignature to the
// functionCall part, else "<base>". <base> is Gemini's functionCall.id when it sent one, else
// "call_<16 hex of a hash of the completion id>_<k>" with k counting tool calls in the response,
// so ids are unique per response, stable for a given (completion id, position), and deterministic
// under test. Clients echo the id verbatim in the next request (assistant tool_calls[].id and the
// tool message's tool_call_id), which is how the signature comes back even through clients that
// drop unknown fields. The same signature is also emitted as
// tool_calls[].extra_content.google.thought_signature (Google's own compat layer's spelling).
#pragma once

#include <string>
#include <string_view>

namespace gemgate::openai::detail {

inline constexpr std::string_view kThoughtSeparator = "__thought__";

// Gemini's documented stand-in signature for a function call that has no real signature (e.g.
// history written by another model); Gemini 3 refuses function-call history without any signature.
inline constexpr std::string_view kSkipSignature = "skip_thought_signature_validator";

// "call_<hash(completion_id)>_<k>".
std::string generated_call_id(std::string_view completion_id, size_t k);

// base + "__thought__" + signature (just base when signature is empty).
std::string make_tool_call_id(std::string_view base, std::string_view signature);

struct ToolCallId {
  std::string_view base;
  std::string_view signature;  // empty when the id carries none
};
ToolCallId split_tool_call_id(std::string_view id);

}  // namespace gemgate::openai::detail
