// Internal: Anthropic message content → Gemini contents, and the tool_use id scheme that carries
// Gemini's thought signatures. Not part of the public API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "filters/anthropic/translate/errors.h"
#include "filters/anthropic/translate/messages_request.h"
#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::anthropic::detail {

using openai::detail::Alloc;
using openai::detail::Document;
using openai::detail::Value;

inline constexpr std::string_view kThoughtSeparator = "__thought__";

// "<base>__thought__<signature as base64url, unpadded>", or just base without a signature.
std::string make_tool_use_id(std::string_view base, std::string_view signature);

struct ToolUseId {
  std::string base;
  std::string signature;  // standard base64 again (padding restored); empty when none
};
ToolUseId split_tool_use_id(std::string_view id);

// "toolu_<16 hex of a hash of message_id>_<k>": unique per message, stable for a position.
std::string generated_tool_use_id(std::string_view message_id, size_t k);

// `system` (a string or an array of text blocks) → {"parts":[{"text":...}]} in *out; an empty
// system leaves *out null.
std::optional<AnthropicError> translate_system(const Value& system, Alloc& a, Value* out);

// `messages` → Gemini `contents` (an array) in *out. `gemini3`: the request names a Gemini 3
// model, which refuses function-call history without any thought signature.
std::optional<AnthropicError> translate_messages(const Value& messages, const MediaMap& media,
                                                 bool gemini3, Alloc& a, Value* out);

// Every http(s) URL of image/document sources in `messages`, in order, without duplicates.
void collect_media_urls(const Value& messages, std::vector<std::string>* urls);

}  // namespace gemgate::anthropic::detail
