// Anthropic Messages requests (`POST /v1/messages`, `POST /v1/messages/count_tokens`) → Gemini
// `generateContent` / `streamGenerateContent?alt=sse` / `countTokens` requests.
//
//   auto urls = list_remote_media(body);          // image/document URLs to download first
//   auto req = translate_messages_request(body, media);
//   // req->path  "/v1beta/models/claude-sonnet-4-5:generateContent" (the model as the client
//   //            named it: the `models` filter below maps claude-* names to Gemini models)
//   // req->body  the Gemini JSON;  req->context  keep it for the response
//
// What maps to what (details in ../README.md):
//   system (string | text blocks)       → systemInstruction (cache_control ignored)
//   user / assistant                    → user / model turns (consecutive same-role turns merge)
//   text, image (base64 | url), document (base64 PDF | url | text source) → text / inlineData
//   tool_use {id,name,input}            → functionCall {name,args}
//   tool_result {tool_use_id,content,is_error} → functionResponse {name,
//   response:{content}|{error}}
//                                          (+ inlineData parts for images inside the result)
//   thinking / redacted_thinking        → their signature goes back as thoughtSignature on the
//                                          next part of the same assistant turn (see below)
//   tools[].input_schema                → functionDeclarations[].parametersJsonSchema (cleaned)
//   tool_choice auto|any|tool|none      → toolConfig.functionCallingConfig AUTO|ANY(+allowed)|NONE
//   max_tokens, temperature, top_p, top_k, stop_sequences → generationConfig
//   thinking {type: enabled, budget_tokens} → thinkingConfig {thinkingBudget, includeThoughts}
//   metadata, service_tier, disable_parallel_tool_use → ignored (Gemini has no equivalent)
//
// Thought signatures. Gemini's thoughtSignature of a functionCall travels in the tool_use id
// ("toolu_…__thought__<signature, base64url>"), which every client echoes verbatim; a signature
// on a thought or text part travels in the `signature` of a thinking block. On the way back a
// tool_use id's signature goes onto its functionCall; a thinking block's signature onto the next
// text or functionCall part of the same turn that has none of its own (or, with nothing after it,
// a thought part of its own).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "filters/anthropic/translate/errors.h"
#include "filters/openai/translate/chat_request.h"

namespace gemgate::anthropic {

using openai::FetchedMedia;
using openai::MediaMap;

// What the response translators need to know about the request.
struct MessagesContext {
  std::string model;  // as the client named it (echoed in `model`)
  bool stream = false;
  bool thinking = false;  // the client asked for thinking blocks
  std::vector<std::string> stop_sequences;
};

struct MessagesRequest {
  std::string path;  // "/v1beta/models/<model>:generateContent" or ":streamGenerateContent?alt=sse"
  std::string body;  // Gemini JSON
  MessagesContext context;
};

// The http(s) URLs of `image` and `document` sources ({"type":"url","url":...}), in order and
// without duplicates; the caller downloads them into a MediaMap. 400 on invalid JSON.
Expected<std::vector<std::string>> list_remote_media(std::string_view body);

// A Messages request body → the Gemini call. `media` holds the downloads of list_remote_media; a
// URL missing from it is a 400. 400 (invalid_request_error, naming the field) on anything
// malformed or unsupported (server tools, unknown block types, a tool_result for an unknown id).
Expected<MessagesRequest> translate_messages_request(std::string_view body, const MediaMap& media);

// A count_tokens body (the same fields as a Messages request) → Gemini countTokens
// ("/v1beta/models/<model>:countTokens", {"contents":[...]}): the system prompt is counted as a
// leading user turn and tool declarations are not counted (Gemini's countTokens takes tools only
// inside a generateContentRequest whose model must be the final Gemini name, which only the
// `models` filter below knows). The answer is read with translate_count_tokens_response.
Expected<MessagesRequest> translate_count_tokens_request(std::string_view body,
                                                         const MediaMap& media);

// Gemini's {"totalTokens":N} → {"input_tokens":N}.
Expected<std::string> translate_count_tokens_response(std::string_view gemini_body);

}  // namespace gemgate::anthropic
