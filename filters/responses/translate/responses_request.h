// OpenAI Responses `POST /v1/responses` body → Gemini `generateContent` /
// `streamGenerateContent` request.
//
// Usage, in the order a filter needs it:
//
//   auto head = read_request_head(body);              // 1. previous_response_id, store, stream
//   std::string history = load(head->previous_response_id);  // 2. the caller's stored items
//   auto prep = prepare_request(body, history, seal); // 3. Responses items → chat messages
//   MediaMap media = fetch_all(prep->media_urls);     // 4. the caller downloads (size-capped)
//   auto call = finish_request(*prep, media);         // 5. the Gemini call
//
// The items are first rewritten into an OpenAI chat completion body, which the chat translator
// of gemgate_openai_translate turns into Gemini's (one mapping of messages, media, tools,
// schemas and thinking for both fronts); then `web_search` tools become Gemini's googleSearch.
// Mapping decisions worth knowing:
//  * `instructions` become the first system message; prior items (of previous_response_id) come
//    before the new input, as OpenAI chains them; the prior instructions are not carried over.
//  * message items: input_text / output_text → text, input_image (URL or data URI) → image,
//    input_file with file_data → file. function_call items join the assistant turn before them;
//    function_call_output items become tool results.
//  * reasoning items carry the thought signatures in `encrypted_content`, sealed by the caller's
//    ReasoningSeal. A value that does not open (forged, altered, from another gateway or a
//    rotated seal key) is ignored, never sent to Gemini: the call then goes without its signature
//    (on Gemini 3 with the documented skip value, see the chat translator).
//  * `custom` tools (freeform text input, e.g. Codex CLI's apply_patch) become functions taking
//    one string `input`; their calls come back as custom_tool_call items, and custom_tool_call /
//    custom_tool_call_output items go to Gemini as the function call and its result.
//  * refused with a 400 naming the field: tool types other than function / custom / web_search,
//    item_reference items, file_id inputs, background, conversation.
//  * dropped without error: metadata, user, truncation, service_tier, parallel_tool_calls,
//    prompt_cache_key, safety_identifier, text.verbosity.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/errors.h"

namespace gemgate::responses {

using openai::Expected;
using openai::MediaMap;
using openai::OpenAIError;

// Seals and opens the payload of a reasoning item's encrypted_content. The translator stays
// pure: the caller brings the cryptography (the filter uses an HMAC under a gateway secret).
struct ReasoningSeal {
  // payload → opaque printable token.
  std::function<std::string(std::string_view payload)> seal;
  // token → payload, or nullopt when the token is not one this seal made.
  std::function<std::optional<std::string>(std::string_view token)> open;
};

// The fields needed before the request can be translated.
struct RequestHead {
  std::string model;
  std::string previous_response_id;  // "" when absent
  bool store = true;                 // OpenAI's default
  bool stream = false;
};

// What the response side must know about the request. Plain data: keep it with the exchange.
struct ResponsesContext {
  std::string model;           // as the client sent it; echoed in the response object
  std::string upstream_model;  // the Gemini model id
  bool stream = false;
  bool store = true;
  bool include_encrypted = false;         // include: ["reasoning.encrypted_content"]
  bool include_summary = false;           // reasoning.summary asked: thoughts become summary text
  std::vector<std::string> custom_tools;  // names of `custom` (freeform input) tools
  std::string previous_response_id;
  std::string echo_json;  // the request fields the response object echoes, as a JSON object
};

struct PreparedRequest {
  std::string chat_body;                // the equivalent chat completion body
  std::vector<std::string> media_urls;  // http(s) media to download before finish_request
  std::string input_items_json;         // this request's input as items with ids (JSON array)
  ResponsesContext context;
  bool web_search = false;
  std::vector<std::string> message_params;  // chat messages[k] → the Responses field it came from
};

struct GeminiCall {
  std::string path;  // "/v1beta/models/{m}:generateContent" or ":streamGenerateContent?alt=sse"
  std::string body;
  ResponsesContext context;
};

// Reads model, previous_response_id, store and stream. Fails when the body is not a JSON object
// or those fields have the wrong type.
Expected<RequestHead> read_request_head(std::string_view body);

// Rewrites the request (and `prior_items_json`, the JSON array of items of the conversation so
// far, "" for none) into a chat completion body. `id_seed` seeds the ids given to input items.
Expected<PreparedRequest> prepare_request(std::string_view body, std::string_view prior_items_json,
                                          const ReasoningSeal& seal, std::string_view id_seed);

// The Gemini call for a prepared request, with the downloads of its media_urls.
Expected<GeminiCall> finish_request(const PreparedRequest& prepared, const MediaMap& media);

}  // namespace gemgate::responses
