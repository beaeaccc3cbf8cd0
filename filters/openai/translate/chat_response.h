// Gemini `generateContent` reply → OpenAI `chat.completion`.
//
//   auto res = translate_chat_response(gemini_body, ctx, {.id = "chatcmpl-…", .created = now});
//   if (!res) return reply(res.error().status, res.error().to_json());
//   reply(200, res->body);   // res->usage for logs and billing
//
// Call it for a 2xx upstream reply; for any other status use translate_gemini_error().
//
// Mapping decisions:
//  * inline images become message.images [{"type":"image_url","image_url":{"url":"data:…"},
//    "index"}] (the extension OpenAI-compatible gateways use; content keeps the text); inline
//    audio (Gemini's 24 kHz PCM, several parts joined) becomes message.audio {id, data (base64
//    wav, or pcm16 when the request asked for it), expires_at (created + 24 h), transcript (the
//    text parts, usually "")} with content null, as OpenAI answers audio.
//  * one choice per candidate (index = candidate.index, else its position); text parts are joined
//    into `content` (null when there is none); thought parts go to `reasoning_content` only when
//    ctx.include_reasoning; functionCall parts become `tool_calls` (or the legacy
//    `function_call` when the request used `functions`).
//  * tool call ids: Gemini's functionCall.id when present, else "call_<hash of meta.id>_<k>"; a
//    thoughtSignature is appended as "__thought__<sig>" and also given as
//    tool_calls[].extra_content.google.thought_signature. A signature on a text part is returned
//    as message.extra_content.google.thought_signature. Send them back unchanged in the next
//    request (translate_chat_request reads all of these).
//  * finish_reason: STOP → stop, MAX_TOKENS → length, SAFETY/RECITATION/OTHER/BLOCKLIST/... →
//    content_filter, anything else → stop; stop or length with tool calls → tool_calls. Text
//    produced before a safety stop is kept. The raw reason (when not STOP/MAX_TOKENS), Gemini's
//    finishMessage and a prompt blockReason are given in choices[].provider_specific_fields.
//  * a blocked prompt (promptFeedback.blockReason, no candidates) is a 200 with one
//    content_filter choice whose content is null; a reply with neither candidates nor block
//    reason is a 502 bad_upstream_response.
//  * usage: prompt_tokens = promptTokenCount (+ toolUsePromptTokenCount), completion_tokens =
//    candidatesTokenCount + thoughtsTokenCount, total_tokens = totalTokenCount, with
//    completion_tokens_details.reasoning_tokens and prompt_tokens_details.cached_tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/errors.h"

namespace gemgate::openai {

// What the caller stamps on every response: OpenAI's id ("chatcmpl-…") and unix-seconds creation
// time. Injected so that responses are deterministic under test. Tool call ids derive from `id`.
struct ResponseMeta {
  std::string id;
  int64_t created = 0;
};

// Token usage in OpenAI's terms (see the mapping above).
struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  int64_t reasoning_tokens = 0;                    // completion_tokens_details.reasoning_tokens
  int64_t cached_tokens = 0;                       // prompt_tokens_details.cached_tokens
  std::optional<int64_t> prompt_audio_tokens;      // only when Gemini reports AUDIO modality
  std::optional<int64_t> completion_audio_tokens;  // only when Gemini reports AUDIO modality
};

struct ChatResponse {
  std::string body;  // the chat.completion JSON
  Usage usage;
};

Expected<ChatResponse> translate_chat_response(std::string_view gemini_body, const ChatContext& ctx,
                                               const ResponseMeta& meta);

}  // namespace gemgate::openai
