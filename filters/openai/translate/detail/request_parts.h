// Internal: the pieces translate_chat_request() is assembled from, one file each:
// request_messages.cpp (messages → contents/systemInstruction), request_content.cpp
// (content parts: text, images, audio, files), request_tools.cpp (tools and
// tool_choice), request_config.cpp (generationConfig incl. structured output and thinking).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::openai::detail {

// An error, or nothing on success.
using Failure = std::optional<OpenAIError>;

// Shared by the pieces of one translation.
struct RequestState {
  const TranslateOptions& options;
  const MediaMap& media;
  Alloc& a;
  std::string upstream_model;
  size_t inline_bytes = 0;  // base64 media inlined so far
};

// True for the Gemini 3 family (thinkingLevel instead of thinkingBudget; signatures required).
bool is_gemini3(std::string_view upstream_model);

// `messages` → `contents` (array) and the parts of `systemInstruction` (array).
Failure translate_messages(const Value& messages, RequestState& st, Value& contents,
                           Value& system_parts);

// `tools`/`functions` and `tool_choice`/`function_call` → body.tools and body.toolConfig.
Failure translate_tools(const Value& root, RequestState& st, Value& body, ChatContext& ctx);

// Sampling parameters, stop, n, logprobs, response_format and reasoning → generationConfig.
Failure translate_generation_config(const Value& root, RequestState& st, Value& config,
                                    ChatContext& ctx);

// `modalities` and `audio` → generationConfig.responseModalities and speechConfig; sets
// ctx.audio_format (request_output.cpp).
Failure translate_output_modalities(const Value& root, RequestState& st, Value& config,
                                    ChatContext& ctx);

// The `google` extension object: top-level `google` or `extra_body.google` (nullptr if neither).
const Value* google_extension(const Value& root, std::string* param);

// --- request_content.cpp ---

// A user message's `content` (string or array of parts) → Gemini parts appended to `parts`.
Failure user_content_parts(const Value& content, const std::string& param, RequestState& st,
                           Value& parts);

// The text of a system/developer/assistant/tool `content`: a string, or an array of text parts
// (each one becomes an element of *texts; empty strings are skipped). `refusal` parts are skipped
// when allow_refusal is set (assistant history), refused otherwise.
Failure content_texts(const Value& content, const std::string& param, bool allow_refusal,
                      std::vector<std::string>* texts);

// Appends the http(s) image URLs of `messages` that must be downloaded (see list_remote_media).
void collect_remote_media(const Value& messages, std::vector<std::string>& urls);

}  // namespace gemgate::openai::detail
