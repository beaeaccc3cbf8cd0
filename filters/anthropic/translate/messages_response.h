// Gemini `generateContent` answers → Anthropic Messages responses.
//
//   auto res = translate_messages_response(gemini_body, req->context, "msg_" + random_id());
//   reply(200, res->body);   // {"id","type":"message","role":"assistant","model","content",
//                            //  "stop_reason","stop_sequence","usage"}
//
// Content blocks follow Gemini's parts in order (see detail/blocks.h). stop_reason: STOP →
// end_turn (tool_use when the answer calls a tool), MAX_TOKENS → max_tokens, a blocked prompt
// (promptFeedback.blockReason) or a safety/recitation/blocklist finish → refusal. Gemini does not
// say which stop sequence ended an answer, so `stop_sequence` stays null and a stop sequence
// ends as end_turn. usage: input_tokens = prompt (+ tool-use prompt) - cached,
// cache_read_input_tokens = cachedContentTokenCount, cache_creation_input_tokens = 0,
// output_tokens = candidates + thoughts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "filters/anthropic/translate/errors.h"
#include "filters/anthropic/translate/messages_request.h"
#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::anthropic {

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_input_tokens = 0;
};

struct MessagesResponse {
  std::string body;
  Usage usage;
};

// 502 api_error when the body is not a Gemini answer.
Expected<MessagesResponse> translate_messages_response(std::string_view gemini_body,
                                                       const MessagesContext& ctx,
                                                       std::string_view message_id);

// ---- shared with the stream translator ----

// Gemini usageMetadata (may be null) → Usage.
Usage usage_of(const openai::detail::Value* usage_metadata);
// {"input_tokens","cache_creation_input_tokens","cache_read_input_tokens","output_tokens"}
std::string usage_json(const Usage& u);
// Gemini finishReason / promptFeedback.blockReason → stop_reason.
std::string_view stop_reason_of(std::string_view finish_reason, std::string_view block_reason,
                                bool has_tool_use);

}  // namespace gemgate::anthropic
