// OpenAI `POST /v1/chat/completions` body → Gemini `generateContent` / `streamGenerateContent`
// request.
//
// Usage, in the order a filter needs it:
//
//   auto urls = list_remote_media(body);              // 1. http(s) images Gemini cannot fetch
//   if (!urls) return reply(urls.error());
//   MediaMap media = fetch_all(*urls);                 // 2. the caller downloads (size-capped)
//   auto req = translate_chat_request(body, media);    // 3. translate
//   if (!req) return reply(req.error().status, req.error().to_json());
//   send_upstream(req->path, req->body);               // 4. keep req->context for the response
//
// Mapping decisions worth knowing:
//  * system and developer messages, wherever they stand, become systemInstruction parts in order;
//    consecutive turns of the same Gemini role are merged (tool results are `user` turns).
//  * assistant text is kept together with its tool_calls; tool messages become functionResponse
//    parts whose name is recovered from the tool_call_id (an unknown id is a 400).
//  * thought signatures come back from tool call ids ("<id>__thought__<sig>"),
//    tool_calls[].extra_content.google.thought_signature, tool_calls[].function.thought_signature
//    or provider_specific_fields.thought_signature; on Gemini 3 a function-call turn without any
//    signature gets Gemini's documented "skip_thought_signature_validator".
//  * reasoning_effort → thinkingBudget (1024/8192/24576, none → 0, minimal → 512) on Gemini 2.x and
//    thinkingLevel on Gemini 3; `google.thinking_config` (top level, which is where the OpenAI SDKs
//    put `extra_body={"google":...}`, or literally under `extra_body`) is honoured too.
//    includeThoughts is only requested when the client asks for reasoning text.
//  * modalities: "text" → TEXT, "image" → IMAGE (a Gemini image model), "audio" → AUDIO alone
//    (Gemini's TTS models speak the text they are given and take no TEXT next to AUDIO); audio
//    needs `audio: {voice, format}`: voice as in speech.h, format wav or pcm16 (a stream:
//    pcm16 only, as OpenAI), other formats 400.
//  * dropped without error: logit_bias, user, metadata, store, service_tier, prediction,
//    parallel_tool_calls (Gemini may still return several calls), web_search_options,
//    image_url.detail.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "filters/openai/translate/errors.h"
#include "filters/openai/translate/schema.h"

namespace gemgate::openai {

// An image the caller downloaded for the request: the raw bytes and the HTTP Content-Type.
// The library base64-encodes the bytes; the MIME type is taken from the bytes themselves when they
// are a known format (servers often say application/octet-stream), then from `mime_type`, then
// from the URL's extension.
struct FetchedMedia {
  std::string mime_type;
  std::string bytes;
};
// URL (exactly as listed by list_remote_media) → its download. A URL missing from the map is a
// download failure: translate_chat_request answers 400 `invalid_image_url` naming the part.
using MediaMap = std::unordered_map<std::string, FetchedMedia>;

struct TranslateOptions {
  // Where tool and response schemas go: Gemini's JSON-Schema fields (default) or its OpenAPI
  // subset (a fallback if Gemini refuses a schema). See schema.h.
  SchemaMode schema_mode = SchemaMode::kJsonSchema;
  // Ask Gemini for thought summaries (and return them as reasoning_content) even when the client
  // did not set google.thinking_config.include_thoughts.
  bool include_reasoning = false;
  // Cap on the base64 media inlined into one request (Gemini refuses requests over ~20 MB).
  size_t max_inline_bytes = 20u << 20;
  // Send tool call ids as functionCall.id / functionResponse.id. Off by default: Gemini matches
  // responses to calls by order and name, and some models refuse ids.
  bool send_function_call_ids = false;
};

// What the response side must know about the request. Plain data: store it with the exchange.
struct ChatContext {
  std::string model;           // as the client sent it; echoed in every response
  std::string upstream_model;  // the Gemini model id in the path (prefixes stripped)
  bool stream = false;
  int n = 1;                       // choices asked for (candidateCount)
  bool include_usage = false;      // stream_options.include_usage: emit the final usage chunk
  bool include_reasoning = false;  // return thought parts as reasoning_content
  bool logprobs = false;           // map logprobsResult to choices[].logprobs
  bool legacy_functions = false;   // request used `functions`: answer with message.function_call
  // `audio.format` of a request with modalities ["audio"]: "wav" or "pcm16" (the format of
  // message.audio.data); "" when no audio was asked for (audio Gemini sends anyway is wav).
  std::string audio_format;
};

struct ChatRequest {
  std::string path;  // "/v1beta/models/{model}:generateContent" or
                     // "/v1beta/models/{model}:streamGenerateContent?alt=sse"
  std::string body;  // the Gemini JSON body
  ChatContext context;
};

// The http(s) image URLs in `openai_body` the caller must download before translating, without
// duplicates, in order of appearance. Gemini Files API URIs and YouTube URLs are not listed (they
// go to Gemini by reference). Fails only when the body is not a JSON object; other problems are
// reported by translate_chat_request. The list is as long as the client made it: the caller
// decides how many downloads, and of what size, it allows (a refused download is simply left out
// of the MediaMap).
Expected<std::vector<std::string>> list_remote_media(std::string_view openai_body);

// False when `openai_body` cannot name a remote image: its bytes hold neither "image_url" nor a
// \u escape (which could spell it). A byte scan, no parse: a caller may then skip
// list_remote_media() and its parse (translate_chat_request() still refuses a body that is not a
// JSON object, with the same error). True means: call list_remote_media().
bool may_name_remote_media(std::string_view openai_body);

// Translates a chat completion request. Errors are OpenAI-shaped 400s whose `param` names the
// field, e.g. "messages[2].role" or "messages[3].tool_calls[0].function.arguments".
Expected<ChatRequest> translate_chat_request(std::string_view openai_body,
                                             const MediaMap& media = {},
                                             const TranslateOptions& options = {});

// "models/gemini-2.5-flash", "google/gemini-2.5-flash" → "gemini-2.5-flash". Refuses names that
// are empty or hold anything but letters, digits, '.', '_' and '-' (they end up in a URL path).
Expected<std::string> upstream_model_name(std::string_view model,
                                          const std::string& param = "model");

}  // namespace gemgate::openai
