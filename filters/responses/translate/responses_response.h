// Gemini `generateContent` answers → OpenAI Responses response objects, and
// `streamGenerateContent?alt=sse` bytes → Responses stream events, incrementally.
//
// Output items, in the order Gemini sent the parts: thought summaries (only when the request
// asked for reasoning.summary) → a `reasoning` item with summary_text; text → one `message` item
// with `output_text` content; each functionCall → a `function_call` item (call_id is Gemini's id,
// else "call_<hash of the response id>_<k>"). A functionCall that carries a thoughtSignature is
// preceded by a `reasoning` item whose encrypted_content seals {call_id: signature} (the open
// summary item, else one of its own); the client sees encrypted_content only with include:
// ["reasoning.encrypted_content"], the stored conversation always keeps it. Google Search
// grounding becomes `url_citation` annotations on the text (character offsets) and a
// `web_search_call` item with the queries.
//
// Status: STOP → completed; MAX_TOKENS → incomplete (max_output_tokens); safety and other
// content stops, and a blocked prompt → incomplete (content_filter). Usage: input_tokens (+
// cached), output_tokens (candidates + thoughts) with output_tokens_details.reasoning_tokens.
//
// Stream: response.created, response.in_progress, then per item output_item.added,
// content_part.added / reasoning_summary_part.added, the deltas, their .done events,
// output_item.done; then response.completed or response.incomplete with the whole response.
// Every event is "event: <type>\ndata: <json>\n\n" with an increasing sequence_number. A Gemini
// error event, fail(), an unreadable or oversized event, or a stream that ends before any answer
// end it with response.failed. Output depends only on the decoded events, never on how the input
// was split.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "filters/openai/translate/chat_response.h"
#include "filters/responses/translate/responses_request.h"

namespace gemgate::responses {

struct ResponseMeta {
  std::string id;          // "resp_…"
  int64_t created_at = 0;  // Unix seconds
};

struct FinishedResponse {
  std::string response_json;      // the response object as the client receives it
  std::string output_items_json;  // the output items as the conversation keeps them (JSON array)
  std::string status;             // "completed", "incomplete" or "failed"
  openai::Usage usage;
};

// Translates a whole (non-stream) Gemini answer. Fails (502) when the body is not Gemini's shape.
Expected<FinishedResponse> translate_response(std::string_view gemini_body,
                                              const ResponsesContext& ctx, const ResponseMeta& meta,
                                              const ReasoningSeal& seal);

class ResponsesStreamTranslator {
 public:
  static constexpr size_t kDefaultMaxEventBytes = 16u << 20;

  ResponsesStreamTranslator(ResponsesContext ctx, ResponseMeta meta, ReasoningSeal seal,
                            size_t max_event_bytes = kDefaultMaxEventBytes);
  ~ResponsesStreamTranslator();
  ResponsesStreamTranslator(ResponsesStreamTranslator&&) noexcept;
  ResponsesStreamTranslator& operator=(ResponsesStreamTranslator&&) noexcept;

  // Consumes upstream bytes, appends the resulting events to `out`. Ignored once done().
  void feed(std::string_view bytes, std::string& out);
  // The upstream ended normally: closes the items and emits completed / incomplete.
  void finish(std::string& out);
  // The upstream failed: emits response.failed carrying `error`.
  void fail(const OpenAIError& error, std::string& out);

  bool done() const;
  bool failed() const;
  bool started() const;              // an answer event of Gemini was translated (events went out)
  const OpenAIError* error() const;  // why a failed stream failed, else nullptr
  const FinishedResponse* finished() const;  // the final response once finished, else nullptr

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace gemgate::responses
